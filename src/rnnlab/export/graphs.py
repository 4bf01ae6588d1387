"""Each task's network as a graph of plain tensors in and out, with real example inputs, ready for ONNX.

A :class:`TaskGraph` names its inputs and outputs, which axes vary (batch, time, characters), and holds
inputs built from real texts (or windows) by the task's own preprocessing. The recurrent layers are set to
the fused kernels with masking for padded batches (``lengths_strategy="mask"``): each direction runs over
the whole padded batch, the backward one on sequences reversed within their lengths, so a graph with
variable lengths is exactly the PyTorch computation (the ONNX LSTM/GRU/RNN operators are PyTorch's cells).
What stays outside the graph: tokenising and vocabulary lookup (before), the CRF's Viterbi decoding, the
forecaster's scaling back to the original units (after); :mod:`rnnlab.export.runtime` ships those in NumPy.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.errors import ConfigError
from rnnlab.nn.recurrent import Recurrent

EXAMPLE_SENTENCES = (
    "Maria Lopez flew from Madrid to Tokyo for Sony .",
    "The Red Cross sent Omar to Lima on Monday .",
    "EU rejects German call to boycott British lamb .",
    "Peter Blackburn",
    "BRUSSELS 1996-08-22",
)
EXAMPLE_REVIEWS = (
    "A moving, beautifully acted film that stays with you.",
    "Dull and far too long.",
    "Le film est vraiment superbe.",
    "I wanted to like it, but the plot makes no sense at all and the ending is a mess.",
)
EXAMPLE_ADS = (
    "Vente Villa 4 pièces Nice (06000) Réf. 12390: Sur les Hauteurs de Nice. Superbe villa moderne (190m²), "
    "2 chambres et 1 suite parentale, 3 salles de bain. Cette villa a été construite en 2005. 1 270 000 euros. "
    "Si vous êtes intéressés, contactez vite Mimi LASOURIS 06.43.43.43. 43",
    "Appartement T3 de 65 m² à Toulon, 245 000 €, 2 chambres, balcon. Tél 06 12 34 56 78",
    "Studio 18 m² proche gare, 89 000 euros FAI.",
)


@dataclasses.dataclass
class TaskGraph:
    """A module of tensors → tensors, its input/output names, its variable axes and real example inputs."""

    task: str
    module: nn.Module
    inputs: dict[str, Tensor]
    outputs: list[str]
    dynamic_axes: dict[str, dict[int, str]]
    source: str  # where the example inputs came from

    def __post_init__(self) -> None:
        self.module.eval()  # the exporter restores the mode it found: keep that eval (no dropout)

    def subset(self, rows: Sequence[int]) -> dict[str, Tensor]:
        """The example inputs of some rows only, cut to their own longest time/char axes (another shape)."""
        index = torch.as_tensor(list(rows))
        picked = {k: v[index] for k, v in self.inputs.items()}
        if "lengths" in picked:
            t = int(picked["lengths"].max())
            picked = {k: v[:, :t] if v.dim() >= 2 and k != "x" else v for k, v in picked.items()}
        if "char_lengths" in picked:
            c = max(1, int(picked["char_lengths"].max()))
            picked["chars"] = picked["chars"][:, :, :c]
        return picked


def for_export(net: nn.Module) -> nn.Module:
    """A copy of ``net`` in eval mode whose recurrent layers run the fused kernels, masking padded steps."""
    net = copy.deepcopy(net).eval()
    for m in net.modules():
        if isinstance(m, Recurrent):
            try:
                m.impl = "fused"
            except ValueError as exc:  # e.g. GRU(reset_after=False), a residual SimpleRNN, recurrent dropout
                raise ConfigError(f"ONNX export needs the fused kernels: {exc}") from None
            if not (m.cell_class.state_size == 2 and m.config.return_state):
                m.lengths_strategy = "mask"
    return net


class _TaggerGraph(nn.Module):
    def __init__(self, net: nn.Module, with_features: bool) -> None:
        super().__init__()
        self.net, self.with_features = for_export(net), with_features
        self.crf = self.net.crf

    def forward(self, words, casing, chars, char_lengths, lengths, features=None):  # type: ignore[no-untyped-def]
        from rnnlab.tag.models import TagBatch

        batch = TagBatch(words, casing, chars, char_lengths, lengths, None, lengths, features)
        emissions = self.net(batch)
        if self.crf is None:
            return emissions
        transitions, start, end = self.crf._scores()  # forbidden moves at −10⁴, as the PyTorch decoder sees them
        return emissions, transitions, start, end


def tagger_graph(tagger: Any, texts: Sequence[str] = EXAMPLE_SENTENCES, *, tokenizer=None, featurizer=None,
                 task: str = "tagger", source: str = "built-in sentences") -> TaskGraph:  # fmt: skip
    """A :class:`~rnnlab.tag.tagger.Tagger` (or an extractor's) → emissions (B, T, K) (+ CRF scores)."""
    from rnnlab.tag.features import TagDataset, tokenize_with_offsets

    tokenizer = tokenizer or tokenize_with_offsets
    tokenised = [[tok for tok, _, _ in tokenizer(t)] for t in texts]
    keep = [i for i, toks in enumerate(tokenised) if toks]
    features = None
    if tagger.config.n_features:
        if featurizer is None:
            raise ConfigError("this tagger reads a per-token feature: give its featurizer")
        features = [featurizer(texts[i], tokenizer(texts[i])) for i in keep]
    data = TagDataset([tokenised[i] for i in keep], tagger.words, tagger.chars, lowercase=tagger.lowercase,
                      features=features)  # fmt: skip
    batch = data.collate(list(range(len(keep))))
    inputs = {"words": batch.words, "casing": batch.casing, "chars": batch.chars, "char_lengths": batch.char_lengths,
              "lengths": batch.lengths}  # fmt: skip
    if batch.features is not None:
        inputs["features"] = batch.features
    bt = {0: "batch", 1: "time"}
    axes = {"words": bt, "casing": bt, "chars": {0: "batch", 1: "time", 2: "chars"}, "char_lengths": bt,
            "lengths": {0: "batch"}, "features": bt, "emissions": bt}  # fmt: skip
    outputs = ["emissions"] + (["transitions", "start", "end"] if tagger.net.crf is not None else [])
    module = _TaggerGraph(tagger.net, batch.features is not None)
    return TaskGraph(task, module, inputs, outputs, {k: v for k, v in axes.items() if k in inputs or k in outputs},
                     source)  # fmt: skip


class _ClassifierGraph(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = for_export(net)

    def forward(self, tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.net(tokens, lengths)
        return logits, torch.softmax(logits, dim=-1)


def classifier_graph(clf: Any, texts: Sequence[str] = EXAMPLE_REVIEWS, *,
                     source: str = "built-in reviews") -> TaskGraph:  # fmt: skip
    """A :class:`~rnnlab.classify.classifier.TextClassifier` → logits and probabilities (B, K)."""
    from rnnlab.data.batching import TokenDataset

    data = TokenDataset(clf.encode(texts))
    batch = data.collate(list(range(len(texts))))
    inputs = {"tokens": batch.tokens, "lengths": batch.lengths}
    axes = {"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "logits": {0: "batch"},
            "probabilities": {0: "batch"}}  # fmt: skip
    return TaskGraph("classifier", _ClassifierGraph(clf.net), inputs, ["logits", "probabilities"], axes, source)


class _ForecastGraph(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = for_export(net)
        self.quantiles = bool(getattr(net.config, "quantiles", ()))

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        if self.quantiles:  # the point forecast and every level (B, horizon, K, Q), before conformal offsets
            from rnnlab.forecast.models import forecast_outputs

            out = forecast_outputs(self.net, x)
            return out.forecast, out.quantiles
        return self.net(x)


def forecaster_graph(forecaster: Any, windows: np.ndarray | None = None, *, source: str = "") -> TaskGraph:
    """A :class:`~rnnlab.forecast.forecaster.Forecaster` → standardised forecasts (B, horizon, K) of
    standardised windows (B, input_width, n_inputs), and for a quantile forecaster every level's (B, horizon, K, Q)
    as a second output ``quantiles``; without ``windows``, standard-normal ones."""
    c = forecaster.config
    if windows is None:
        windows = np.random.default_rng(0).standard_normal((8, c.input_width, c.n_inputs)).astype(np.float32)
        source = "standard-normal windows (no data given)"
    inputs = {"x": torch.as_tensor(np.asarray(windows, dtype=np.float32))}
    graph = _ForecastGraph(forecaster.net)
    outputs = ["forecast", "quantiles"] if graph.quantiles else ["forecast"]
    axes = {"x": {0: "batch"}, **{name: {0: "batch"} for name in outputs}}
    return TaskGraph("forecaster", graph, inputs, outputs, axes, source)
