"""``TextClassifier``: fit / predict / evaluate / save / load a text classifier from raw labelled texts.

>>> from rnnlab.data.text import TextDataset
>>> from rnnlab.training import TrainConfig
>>> data = TextDataset(["good film", "great fun", "bad film", "awful plot"] * 8, ["pos", "pos", "neg", "neg"] * 8)
>>> clf = TextClassifier(ClassifierConfig(arch="lstm-last", hidden_size=8, embedding_dim=8),
...                      TrainConfig(max_epochs=30, lr=0.05, batch_size=8, patience=None))
>>> _ = clf.fit(data, embeddings="none")
>>> clf.predict(["great film", "awful film"])
['pos', 'neg']
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from rnnlab import io, tasks
from rnnlab.cards import model_card
from rnnlab.classify.config import DEFAULT_TRAIN, ClassifierConfig, TextConfig
from rnnlab.classify.models import TextClassifierNet, adversarial_perturbation
from rnnlab.classify.pretrain import LanguageModel, language_model_objective
from rnnlab.data.batching import TokenBatch, TokenDataset, bucket_loader
from rnnlab.data.text import TextDataset, Tokenizer, truncate
from rnnlab.data.vectors import embedding_matrix, resolve_vectors, train_word2vec
from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import ConfigError, DataError, ModelFileError
from rnnlab.hub import locate
from rnnlab.metrics.classification import (
    classification_report,
    expected_calibration_error,
    fit_temperature,
    log_loss,
)
from rnnlab.training import FitResult, Objective, TrainConfig, fit, member_dir, seeded_network
from rnnlab.training.members import fit_members, members_of


class TextClassifier:
    """A :class:`TextClassifierNet` with its tokenizer, vocabulary and label names."""

    def __init__(
        self,
        config: ClassifierConfig | None = None,
        train_config: TrainConfig | None = None,
        *,
        text: TextConfig | None = None,
    ) -> None:
        self.config = config or ClassifierConfig()
        self.train_config = train_config or DEFAULT_TRAIN
        self.text = text or TextConfig()
        self.tokenizer = Tokenizer(lowercase=self.text.lowercase)
        self.net: TextClassifierNet | None = None
        self.vocab: Vocabulary | None = None
        self.labels: list[str] = []
        self.info: dict[str, Any] = {}
        self.calibration: dict[str, Any] = {}  # temperature scaling fitted on held-out texts (calibrate)
        self.source: str | None = None  # the directory it was loaded from, named by errors about the model

    # -- data --------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, truncated as configured."""
        assert self.vocab is not None, "fit or load the classifier first"
        t = self.text
        return [truncate(self.vocab.encode(self.tokenizer.tokenize(s)), t.max_len, t.truncation) for s in texts]

    def _label_ids(self, data: TextDataset) -> list[int]:
        if data.labels is None:
            raise DataError("the data has no labels", path=data.source, hint="pass --label-col")
        index = {label: i for i, label in enumerate(self.labels)}
        unknown = sorted(set(data.labels) - set(index))
        if unknown:
            raise DataError(
                f"labels {unknown[:5]} were not seen in training; the model knows {self.labels}",
                path=data.source,
                hint="evaluate on data with the training label set",
            )
        return [index[y] for y in data.labels]

    def _loader(self, data: TokenDataset, *, train: bool, batch_size: int | None = None,
                seed: int | None = None) -> DataLoader:  # fmt: skip
        return bucket_loader(data, batch_size or self.train_config.batch_size, shuffle=train,
                             seed=self.train_config.seed if seed is None else seed)  # fmt: skip

    # -- training ----------------------------------------------------------------------------
    def fit(
        self,
        train: TextDataset,
        dev: TextDataset | None = None,
        *,
        embeddings: str | Path = "glove-6b-50d",
        domain_vectors: int = 0,
        pretrain_epochs: int = 0,
        pretrain_sample: float = 0.25,
        unlabelled: Sequence[str] = (),
        class_weights: bool = False,
        out_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Build the vocabulary on ``train``, initialise embeddings, train, keep the best dev accuracy.

        ``embeddings``: ``'glove-6b-50d'`` (bundled English GloVe), a GloVe/word2vec/fastText
        text file, or ``'none'`` (random init). ``config.freeze_embeddings`` keeps them fixed.
        ``domain_vectors``: learn word2vec vectors of that size on the training texts first (the
        labels unused) and append them to each word's pretrained vector (0: none).
        ``pretrain_epochs``: first train the embedding and recurrent layer as language models for
        that many epochs (:mod:`rnnlab.classify.pretrain`; each direction predicts its next word)
        on the training texts plus the ``unlabelled`` ones, then train the classifier from there
        (0: no pretraining); ``pretrain_sample``: the share of positions whose next word is predicted
        in each batch (the softmax over the vocabulary is the cost). With ``max_time`` the
        pretraining comes out of the same budget.
        ``out_dir``: where the training checkpoints go; ``resume``: continue an interrupted run from them.
        Returns what happened: epochs, best dev accuracy, seconds (the classifier's; pretraining in
        ``pretrain_seconds``), tokens/s, coverage.
        """
        self._check_fit(train, pretrain_epochs, unlabelled)
        tokens = [self.tokenizer.tokenize(s) for s in train.texts]
        sources = self._build(tokens, embeddings, domain_vectors)
        ids = [truncate(self.vocab.encode(t), self.text.max_len, self.text.truncation) for t in tokens]  # type: ignore[union-attr]
        train_ids = TokenDataset(ids, self._label_ids(train))
        dev_ids = None if dev is None else TokenDataset(self.encode(dev.texts), self._label_ids(dev))
        weights = self._class_weights(train_ids.labels) if class_weights else None  # type: ignore[arg-type]
        lm_ids = TokenDataset(ids + self.encode(unlabelled)) if pretrain_epochs else None
        members, pretraining = members_of(self.net), []

        def fit_one(k: int, member: nn.Module, config: TrainConfig) -> FitResult:
            if lm_ids is not None:
                pretraining.append(self._pretrain(member, lm_ids, config, pretrain_epochs, sample=pretrain_sample,
                                                  progress=progress))  # fmt: skip
                if config.max_time is not None:  # the classifier gets what the language model left
                    config = dataclasses.replace(config, max_time=max(1.0, config.max_time - pretraining[-1].seconds))
            return fit(member, self._loader(train_ids, train=True, seed=config.seed),
                       None if dev_ids is None else self._loader(dev_ids, train=False),
                       objective=_objective(weights, adversarial=self.config.adversarial), config=config,
                       out_dir=member_dir(out_dir, k, len(members)), resume=resume, progress=progress)  # fmt: skip

        results = fit_members(members, self.train_config, fit_one,
                              extra_seconds=lambda: sum(p.seconds for p in pretraining))  # fmt: skip
        self.net.eval()  # type: ignore[union-attr]
        pretrain = {"pretrain_epochs": pretrain_epochs, "pretrain_sample": pretrain_sample if pretrain_epochs else None,
                    "pretrain_texts": None if lm_ids is None else len(lm_ids)}  # fmt: skip
        self.info = {**sources, **pretrain, **self._fit_record(train_ids, dev_ids, results, pretraining)}
        self._attach_assets()
        return self.info

    def _check_fit(self, train: TextDataset, pretrain_epochs: int, unlabelled: Sequence[str]) -> None:
        if train.labels is None:
            raise DataError("the training data has no labels", path=train.source, hint="pass --label-col")
        if not isinstance(pretrain_epochs, int) or pretrain_epochs < 0:
            raise ConfigError(f"pretrain_epochs must be an integer >= 0 (0: none), received {pretrain_epochs!r}")
        if unlabelled and not pretrain_epochs:
            raise ConfigError("unlabelled texts are only read for language-model pretraining: pass pretrain_epochs")
        self.labels = sorted(set(train.labels))
        if len(self.labels) < 2:
            raise DataError(f"training needs two classes or more, found {self.labels}", path=train.source)

    def _build(self, tokens: list[list[str]], embeddings: str | Path, domain_vectors: int) -> dict[str, Any]:
        """The vocabulary, the network (an ensemble's member k: the model of seed + k) and its first embeddings:
        pretrained vectors, word2vec vectors learnt on the training texts, both side by side, or random."""
        self.vocab = Vocabulary.build(tokens, min_freq=self.text.min_freq, max_size=self.text.max_vocab)
        seed = self.train_config.seed
        vectors = resolve_vectors(embeddings, set(self.vocab.tokens))
        domain = domain_seconds = None
        if domain_vectors:
            started = time.perf_counter()
            domain = train_word2vec(tokens, domain_vectors, min_count=self.text.min_freq, seed=seed)
            domain_seconds = time.perf_counter() - started
            if vectors is not None:  # the learnt part on the pretrained vectors' scale
                domain.matrix *= vectors.matrix.std() / max(float(domain.matrix.std()), 1e-12)
        coverage = domain_coverage = None
        matrices = []
        if vectors is not None:
            matrix, coverage = embedding_matrix(self.vocab, vectors, seed=seed)
            matrices.append(matrix)
        if domain is not None:
            matrix, domain_coverage = embedding_matrix(self.vocab, domain, seed=seed + 1)
            matrices.append(matrix)
        dim = sum(m.shape[1] for m in matrices) if matrices else self.config.embedding_dim
        self.config = dataclasses.replace(
            self.config, vocab_size=len(self.vocab), n_classes=len(self.labels), embedding_dim=dim
        )
        self.net = seeded_network(TextClassifierNet, self.config, seed)
        for member in members_of(self.net) if matrices else ():
            member.set_embeddings(torch.from_numpy(np.concatenate(matrices, axis=1)))
        return {"embeddings": str(embeddings), "coverage": coverage, "domain_vectors": domain_vectors,
                "domain_coverage": domain_coverage, "domain_vectors_seconds": domain_seconds,
                "vocab_size": len(self.vocab)}  # fmt: skip

    def _fit_record(self, train_ids: TokenDataset, dev_ids: TokenDataset | None, results: list[FitResult],
                    pretraining: list[FitResult]) -> dict[str, Any]:  # fmt: skip
        """What training did: epochs, best dev accuracy (the ensemble's own), seconds, tokens/s, histories."""
        one = len(results) == 1
        n_tokens = sum(train_ids.lengths())
        epochs, seconds = sum(r.epochs for r in results), sum(r.seconds for r in results)
        best = results[0].best_score if dev_ids is not None else None
        if dev_ids is not None and not one:  # the ensemble's own dev accuracy
            best = float(np.mean(self._probabilities(dev_ids).argmax(1) == np.asarray(dev_ids.labels)))
        seed = self.train_config.seed
        return {
            "train_texts": len(train_ids), "train_tokens": n_tokens, "epochs": epochs,
            "best_epoch": results[0].best_epoch if one else None, "best_dev_accuracy": best, "seconds": seconds,
            "tokens_per_s": n_tokens * max(1, epochs) / max(seconds, 1e-9),
            "stopped_early": any(r.stopped_early for r in results), "average_from": self.train_config.average_from,
            "pretrain_seconds": sum(r.seconds for r in pretraining) if pretraining else None,
            "pretrain_history": [row if one else {**row, "member": k} for k, r in enumerate(pretraining)
                                 for row in r.history],
            "members": None if one else [
                {"seed": seed + k, "best_dev_accuracy": r.best_score if dev_ids is not None else None,
                 "best_epoch": r.best_epoch, "epochs": r.epochs, "seconds": r.seconds} for k, r in enumerate(results)],
            "history": [row if one else {**row, "member": k} for k, r in enumerate(results) for row in r.history],
        }  # fmt: skip

    def _pretrain(self, net: TextClassifierNet, data: TokenDataset, config: TrainConfig, epochs: int, *,
                  sample: float, progress: bool) -> FitResult:  # fmt: skip
        """Train ``net``'s embedding and recurrent layer as language models on ``data`` (in place)."""
        lm_config = dataclasses.replace(config, max_epochs=epochs, patience=None, lr_decay=0.0, average_from=None,
                                        monitor=None, mode=None)  # fmt: skip
        loader = self._loader(data, train=True, seed=config.seed)
        lm = LanguageModel(net, sample=sample)
        return fit(lm, loader, None, objective=language_model_objective(), config=lm_config, progress=progress)

    def _class_weights(self, labels: Sequence[int]) -> torch.Tensor:
        """Inverse class frequency, normalised to mean 1 (scikit-learn's ``class_weight='balanced'``)."""
        counts = np.bincount(np.asarray(labels), minlength=len(self.labels)).astype(np.float64)
        return torch.tensor(len(labels) / (len(self.labels) * np.maximum(counts, 1)), dtype=torch.float32)

    def _attach_assets(self) -> None:
        assert self.net is not None and self.vocab is not None
        training = {k: v for k, v in self.info.items() if k != "history"}
        self.net.load_assets(
            {
                "vocab": self.vocab.to_json(),
                "labels": list(self.labels),
                "text": self.text.to_dict(),
                "training": training,
                **({"calibration": self.calibration} if self.calibration else {}),
            }
        )

    # -- inference ---------------------------------------------------------------------------
    @torch.no_grad()
    def check_texts(self, texts: Sequence[str], *, source: str | None = None, lines: Sequence[int] | None = None
                    ) -> list[list[int]]:  # fmt: skip
        """The token ids of ``texts``, a list of strings each with a word once cleaned, else a DataError naming the
        text (its ``source`` file and ``lines`` when given): a label from the bias alone would be a guess."""
        if isinstance(texts, str | bytes | dict) or not hasattr(texts, "__iter__"):  # a str: one text per letter
            raise DataError(f"give a list of texts, received {type(texts).__name__}",
                            hint='predict(["one text"]) for one text')  # fmt: skip
        texts = list(texts)  # a pandas Series or a NumPy array of texts too
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise DataError(f"text {bad + 1} is {type(texts[bad]).__name__}, not text", hint="pass strings")
        ids = self.encode(texts)
        empty = [i for i, row in enumerate(ids) if not row]
        if empty:
            i = empty[0]
            which = f"text {i + 1}" if lines is None else "the text"
            raise DataError(f"{which} has no words once cleaned ({texts[i][:40]!r}): nothing to classify"
                            + (f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""), path=source,
                            line=None if lines is None else lines[i],
                            hint="drop texts without words (markup only, blank)")  # fmt: skip
        return ids

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 256, source: str | None = None,
                      lines: Sequence[int] | None = None) -> np.ndarray:  # fmt: skip
        """(N, K) class probabilities, columns in the order of :attr:`labels`. A text without any word once cleaned
        (blank, markup only) is a DataError, named by its ``source`` file and ``lines`` when given."""
        if self.net is None:
            raise RuntimeError("fit or load the classifier before predicting")
        ids = self.check_texts(texts, source=source, lines=lines)
        out = self._probabilities(TokenDataset(ids), batch_size=batch_size)
        if not np.isfinite(out).all():  # NaN probabilities would be printed as "NaN" (not JSON) or null
            broken = sum(int((~torch.isfinite(p)).sum()) for p in self.net.parameters())
            where = f"{self.source}: " if self.source else ""
            raise ModelFileError(
                f"{where}the classifier's probabilities are not finite (NaN); its network holds {broken} "
                "non-finite weight(s): the model file is damaged or its training diverged; retrain it or "
                "restore a good copy"
            )
        return out

    @property
    def temperature(self) -> float:
        """The softmax temperature of :meth:`predict_proba`: 1 unless :meth:`calibrate` fitted one."""
        return float(self.calibration.get("temperature", 1.0))

    @torch.no_grad()
    def _logits(self, data: TokenDataset, *, batch_size: int = 256) -> np.ndarray:
        """(N, K) logits (an ensemble's: the log of its mean probabilities), before any temperature."""
        assert self.net is not None
        self.net.eval()
        out = np.zeros((len(data), len(self.labels)), dtype=np.float32)
        for batch in self._loader(data, train=False, batch_size=batch_size):
            out[batch.index.numpy()] = self.net(batch.tokens, batch.lengths).float().numpy()
        return out

    def _probabilities(self, data: TokenDataset, *, batch_size: int = 256) -> np.ndarray:
        logits = torch.from_numpy(self._logits(data, batch_size=batch_size))
        return torch.softmax(logits / self.temperature, dim=-1).numpy()

    def calibrate(self, data: TextDataset, *, batch_size: int = 256) -> dict[str, Any]:
        """Temperature scaling (Guo et al. 2017) fitted on ``data``, labelled texts the network did not train on
        (the dev set): :meth:`predict_proba` then divides the logits by T; the predicted labels never change.
        Returns (and keeps in the saved model) T with the expected calibration error and log loss on ``data``
        before and after; these are figures on the set T was fitted to."""
        labels = self._label_ids(data)
        logits = self._logits(TokenDataset(self.encode(data.texts)), batch_size=batch_size)
        t = fit_temperature(logits, labels)
        before, after = _softmax(logits, 1.0), _softmax(logits, t)
        self.calibration = {"temperature": t, "fitted_on": data.source, "texts": len(labels),
                            "ece_before": expected_calibration_error(before, labels),
                            "ece_after": expected_calibration_error(after, labels),
                            "log_loss_before": log_loss(logits, labels),
                            "log_loss_after": log_loss(logits, labels, t)}  # fmt: skip
        return dict(self.calibration)

    def predict_records(self, texts: Sequence[str], *, batch_size: int = 256, explain: bool = False,
                        source: str | None = None, lines: Sequence[int] | None = None
                        ) -> list[dict[str, Any]]:  # fmt: skip
        """One record per text, the schema every door answers with (``classify predict``'s JSON lines and the
        service): ``{"text", "label", "probabilities": {label: p}}``; ``explain`` adds ``"explanation"``
        (:meth:`explain`); ``source`` / ``lines`` name where a text without words is (:meth:`predict_proba`)."""
        probs = self.predict_proba(texts, batch_size=batch_size, source=source, lines=lines)
        records = [{"text": t, "label": self.labels[int(p.argmax())],
                    "probabilities": {y: float(q) for y, q in zip(self.labels, p, strict=True)}}
                   for t, p in zip(texts, probs, strict=True)]  # fmt: skip
        if explain:
            for record, why in zip(records, self.explain(texts, batch_size=batch_size), strict=True):
                record["explanation"] = why
        return records

    @torch.no_grad()
    def explain(self, texts: Sequence[str], *, batch_size: int = 256) -> list[dict[str, Any]]:
        """Which words decided, per text: ``{"method", "tokens", "weights"}``, one weight per token the network
        read (after truncation), summing to 1: the attention pooling's weights (solution 3,
        ``pooling="attention"``), or for max pooling the share of pooled features each word holds; an ensemble's
        are its members' mean. A ConfigError for a model without such weights (solution 1, mean pooling)."""
        if self.net is None:
            raise RuntimeError("fit or load the classifier before explaining")
        t = self.text
        tokens = [truncate(self.tokenizer.tokenize(s), t.max_len, t.truncation) for s in texts]
        data = TokenDataset([self.vocab.encode(w) for w in tokens])  # type: ignore[union-attr]
        members = members_of(self.net)
        out: list[dict[str, Any]] = [{} for _ in texts]
        method = "attention" if self.config.pooling == "attention" else "max-pool share"
        for batch in self._loader(data, train=False, batch_size=batch_size):
            for m in members:
                m.eval()
            weights = sum(m.token_weights(batch.tokens, batch.lengths) for m in members) / len(members)
            for row, i in enumerate(batch.index.tolist()):
                n = len(tokens[i])
                out[i] = {"method": method, "tokens": tokens[i], "weights": [float(w) for w in weights[row, :n]]}
        return out

    def predict(self, texts: Sequence[str], *, batch_size: int = 256) -> list[str]:
        """The most probable label of each text."""
        return [self.labels[i] for i in self.predict_proba(texts, batch_size=batch_size).argmax(1)]

    def evaluate(self, data: TextDataset, *, batch_size: int = 256) -> dict[str, Any]:
        """Accuracy, macro-F1, per-class precision/recall/F1, confusion matrix, expected calibration error (ece),
        texts per second."""
        gold = self._label_ids(data)  # clear error on unknown labels before the work
        start = time.perf_counter()
        probs = self.predict_proba(data.texts, batch_size=batch_size, source=data.source, lines=data.lines)
        seconds = time.perf_counter() - start
        report = classification_report(data.labels or [], [self.labels[i] for i in probs.argmax(1)], self.labels)
        report["ece"] = expected_calibration_error(probs, gold)  # 15 bins; 0: the probabilities mean what they say
        report["temperature"] = self.temperature
        report["texts_per_s"] = len(data) / max(seconds, 1e-9)
        return report

    # -- files -------------------------------------------------------------------------------
    def save(self, directory: str | Path, *, overwrite: bool = False, half: bool = False) -> Path:
        """config.json + model.safetensors + vocab.json, labels.json, text.json, training.json."""
        if self.net is None:
            raise RuntimeError("fit the classifier before saving it")
        self._attach_assets()
        return io.save(self.net, directory, overwrite=overwrite, card=model_card("classifier", self.info), half=half)

    @classmethod
    def load(cls, directory: str | Path) -> TextClassifier:
        """A saved classifier from its directory, or a shipped one by name (``sentiment-en``)."""
        tasks.expect(directory, "classifier")
        directory = locate(directory)
        net = io.load_task(directory, TextClassifierNet, {"vocab", "labels", "text"}, "TextClassifier")
        clf = cls(net.config, text=_asset(directory, "text", lambda: TextConfig.from_dict(net.assets["text"])))
        clf.vocab = _asset(directory, "vocab", lambda: _vocabulary(net.assets["vocab"], net.config.vocab_size))
        clf.net, clf.labels = net, _labels(net.assets["labels"], net.config.n_classes, directory)
        training = net.assets.get("training", {})
        if not isinstance(training, dict):  # dict() of a list or a string: a traceback or an unclear message
            raise ModelFileError(f"{Path(directory) / 'training.json'} must hold a JSON object (the training record), "
                                 f"not {type(training).__name__}; save the model again")  # fmt: skip
        clf.info = dict(training)
        clf.calibration = _asset(directory, "calibration", lambda: _calibration(net.assets.get("calibration", {})))
        clf.source = str(directory)
        return clf


def _asset(directory: str | Path, name: str, read: Any) -> Any:
    """``read()``, its error (an edited asset file) a ModelFileError naming ``<directory>/<name>.json``."""
    try:
        return read()
    except (ConfigError, ModelFileError, TypeError, ValueError) as exc:
        raise ModelFileError(
            f"{Path(directory) / f'{name}.json'}: {exc}; was the file edited? save the model again"
        ) from exc


def _calibration(data: Any) -> dict[str, Any]:
    t = data.get("temperature", 1.0) if isinstance(data, dict) else None
    if not isinstance(t, int | float) or isinstance(t, bool) or not (0 < t < float("inf")):
        raise ValueError(f"the temperature must be a positive number, received {str(t)[:50]}")
    return dict(data)


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    return torch.softmax(torch.from_numpy(logits) / temperature, dim=-1).numpy()


def _vocabulary(tokens: Any, size: int) -> Vocabulary:
    vocab = Vocabulary.from_json(tokens)
    if len(vocab) != size:  # more: an IndexError at the first rare word; fewer: the missing words read as unknown
        raise ValueError(f"{len(vocab)} tokens for the network's {size} embeddings (one each)")
    return vocab


def _labels(labels: Any, n_classes: int, directory: str | Path) -> list[str]:
    """labels.json's class names: as many distinct strings as the network has outputs, else a ModelFileError
    (a name repeated or missing would put probabilities under the wrong class, or drop one)."""
    named = isinstance(labels, list) and all(isinstance(y, str | int) and not isinstance(y, bool) for y in labels)
    names = [str(y) for y in labels] if named else []  # a label read from a Python list may be a number
    if not named or len(set(names)) != len(names) or len(names) != n_classes:
        raise ModelFileError(f"{Path(directory) / 'labels.json'} must list {n_classes} distinct class names "
                             f"(strings), one per output of the network; received {str(labels)[:200]}; was the "
                             "file edited? save the model again")  # fmt: skip
    return names


def _objective(weights: torch.Tensor | None, *, adversarial: float = 0.0) -> Objective:
    def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels, weight=None if weights is None else weights.to(logits.device))

    def loss(model: TextClassifierNet, batch: TokenBatch) -> torch.Tensor:
        if adversarial and model.training and torch.is_grad_enabled():
            return adversarial_loss(model, batch)
        return cross_entropy(model(batch.tokens, batch.lengths), batch.labels)

    def adversarial_loss(model: TextClassifierNet, batch: TokenBatch) -> torch.Tensor:
        """Loss on the texts + loss on their adversarially perturbed embeddings, for two backward passes.

        One backward pass gives both the gradient that defines the perturbation and the clean
        loss's parameter gradients; the latter re-enter the returned graph through a linear
        surrogate (value 0, gradient exactly those), so the engine's single backward adds the
        perturbed loss's gradients without going through the clean graph a second time.
        """
        x = model.embed(batch.tokens)
        if not x.requires_grad:  # frozen embeddings: the perturbation still needs dL/dx
            x.requires_grad_(True)
        clean = cross_entropy(model.classify(x, batch.lengths), batch.labels)
        params = [p for p in model.parameters() if p.requires_grad]
        grad_x, *grads = torch.autograd.grad(clean, [x, *params], allow_unused=True)
        r = adversarial_perturbation(grad_x, x, batch.lengths, adversarial)
        perturbed = cross_entropy(model.classify(model.embed(batch.tokens) + r, batch.lengths), batch.labels)
        surrogate = sum(((p * g).sum() for p, g in zip(params, grads, strict=True) if g is not None),
                        start=torch.zeros((), device=clean.device))  # fmt: skip
        return perturbed + clean.detach() + surrogate - surrogate.detach()

    def metrics(model: TextClassifierNet, batch: TokenBatch) -> dict[str, torch.Tensor]:
        logits = model(batch.tokens, batch.lengths)
        return {"accuracy": (logits.argmax(-1) == batch.labels).float().mean()}

    return Objective(loss=loss, metrics=metrics, monitor="val_accuracy", mode="max")
