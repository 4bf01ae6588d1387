"""Running an exported model without PyTorch's autograd: onnxruntime for the network, NumPy for the rest.

What the ONNX graph leaves out (see :mod:`rnnlab.export.graphs`) is here: the CRF's Viterbi decoding,
vectorised over the batch (:func:`viterbi`), and small runners that feed a graph the same integer arrays the
PyTorch model reads. In another language's ONNX runtime, rebuild those arrays from the model directory's
vocabularies (``words.json``, ``chars.json``, ``vocab.json``) and port :func:`viterbi` (forty lines).

>>> import numpy as np
>>> e = np.array([[[2.0, 0.0], [0.0, 1.0], [5.0, 0.0]]], dtype=np.float32)
>>> viterbi(e, np.array([2]), np.zeros((2, 2)), np.zeros(2), np.zeros(2))
[[0, 1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def viterbi(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
            end: np.ndarray) -> list[list[int]]:  # fmt: skip
    """Best tag sequence of each sentence: emissions (B, T, K), lengths (B,), transitions (K, K) from → to."""
    B, T, K = emissions.shape
    lengths = np.asarray(lengths)
    score = start[None, :] + emissions[:, 0]  # (B, K)
    back = np.zeros((B, T, K), dtype=np.int64)
    for t in range(1, T):
        candidates = score[:, :, None] + transitions[None]  # (B, from, to)
        best = candidates.argmax(1)  # (B, K)
        moved = np.take_along_axis(candidates, best[:, None, :], 1)[:, 0] + emissions[:, t]
        live = (t < lengths)[:, None]
        score = np.where(live, moved, score)
        back[:, t] = best
    last = (score + end[None, :]).argmax(1)  # (B,)
    tags = np.zeros((B, T), dtype=np.int64)
    current = last.copy()
    rows = np.arange(B)
    for t in range(T - 1, -1, -1):
        live = t < lengths
        tags[:, t] = np.where(live, current, 0)
        if t > 0:
            current = np.where(live, back[rows, t, current], current)
    return [row[:n].tolist() for row, n in zip(tags, lengths, strict=True)]


def session(path: str | Path) -> Any:
    """An onnxruntime session on the CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # shape-hint warnings of variable axes are noise
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess: Any, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Outputs by name for inputs by name (tensors or arrays); inputs the graph does not take are left out."""
    wanted = {i.name for i in sess.get_inputs()}
    feed = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in inputs.items() if k in wanted}
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feed), strict=True))


class OnnxTagger:
    """An exported tagger: tokens → tags, like :meth:`rnnlab.tag.tagger.Tagger.predict_tags`, decoded in NumPy."""

    def __init__(self, onnx_path: str | Path, model_dir: str | Path) -> None:
        from rnnlab.tag.tagger import Tagger

        self.tagger = Tagger.load(model_dir)  # its vocabularies and tag scheme (the weights are not used)
        self.session = session(onnx_path)

    def inputs(self, tokens: Sequence[Sequence[str]], features: Sequence[Sequence[int]] | None = None) -> dict:
        from rnnlab.tag.features import TagDataset

        t = self.tagger
        data = TagDataset(tokens, t.words, t.chars, lowercase=t.lowercase, features=features)  # type: ignore[arg-type]
        b = data.collate(list(range(len(tokens))))
        arrays = {"words": b.words, "casing": b.casing, "chars": b.chars, "char_lengths": b.char_lengths,
                  "lengths": b.lengths, "features": b.features}  # fmt: skip
        return {k: v.numpy() for k, v in arrays.items() if v is not None}

    def predict_tags(self, tokens: Sequence[Sequence[str]], features: Sequence[Sequence[int]] | None = None,
                     scheme: str | None = "IOB2") -> list[list[str]]:  # fmt: skip
        """Tags of each sentence (a list of tokens; an empty one gets no tags), as the PyTorch tagger gives."""
        if isinstance(tokens, str) or any(isinstance(s, str) for s in tokens):
            raise ValueError("predict_tags takes sentences as lists of tokens, e.g. [['Anna', 'flew']]: split each "
                             "text into tokens first (or use rnnlab.tag.tagger.Tagger.predict)")  # fmt: skip
        if not len(tokens):
            return []
        keep = [i for i, s in enumerate(tokens) if len(s)]
        if len(keep) < len(tokens):  # empty sentences: nothing to tag, and a zero-length row breaks the graph
            tagged = self.predict_tags([tokens[i] for i in keep], None if features is None else
                                       [features[i] for i in keep], scheme) if keep else []  # fmt: skip
            out: list[list[str]] = [[] for _ in tokens]
            for i, tags in zip(keep, tagged, strict=True):
                out[i] = tags
            return out
        feed = self.inputs(tokens, features)
        out = run(self.session, feed)
        if "transitions" in out:
            paths = viterbi(out["emissions"], feed["lengths"], out["transitions"], out["start"], out["end"])
        else:
            paths = [row[:n].tolist() for row, n in zip(out["emissions"].argmax(-1), feed["lengths"], strict=True)]
        names = self.tagger.config.tag_names
        return [self.tagger._output_tags([names[i] for i in p], scheme) for p in paths]


class OnnxClassifier:
    """An exported text classifier: texts → (N, K) probabilities, like ``TextClassifier.predict_proba``."""

    def __init__(self, onnx_path: str | Path, model_dir: str | Path) -> None:
        from rnnlab.classify.classifier import TextClassifier

        self.classifier = TextClassifier.load(model_dir)  # its vocabulary and tokenizer
        self.session = session(onnx_path)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        from rnnlab.data.batching import TokenDataset

        if not len(texts):  # as TextClassifier.predict_proba: nothing in, nothing out (a 0-row feed breaks the graph)
            return np.zeros((0, len(self.classifier.labels)), dtype=np.float32)
        ids = self.classifier.check_texts(texts)  # as in PyTorch: a list of texts, each with a word
        b = TokenDataset(ids).collate(list(range(len(texts))))
        return run(self.session, {"tokens": b.tokens, "lengths": b.lengths})["probabilities"]


class OnnxForecaster:
    """An exported forecaster: series → the next ``horizon`` steps in their units, like ``predict_arrays``."""

    def __init__(self, onnx_path: str | Path, model_dir: str | Path) -> None:
        from rnnlab.forecast.forecaster import Forecaster

        self.forecaster = Forecaster.load(model_dir)  # its scaler and window settings
        self.session = session(onnx_path)

    def predict_arrays(self, series: Sequence[np.ndarray], ids: Sequence[str] | None = None, *,
                       quantiles: bool = False) -> np.ndarray:  # fmt: skip
        """(S, H, K) in the data's units; with ``quantiles`` (a quantile model) every level's (S, H, K, Q), its
        conformal offsets applied as in PyTorch."""
        f = self.forecaster
        rows, x = f.histories(series, ids)  # checked as in PyTorch; each scaled as the fitted series of its id
        if not quantiles:
            return f.data_units(rows, run(self.session, {"x": x})["forecast"])
        if not f.config.quantiles:
            raise ValueError("this forecaster forecasts points only: fit it with quantiles (--quantiles)")
        from rnnlab.forecast.forecaster import apply_offsets

        return f.data_units(rows, apply_offsets(run(self.session, {"x": x})["quantiles"], f.offsets))
