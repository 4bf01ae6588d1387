"""``Tagger``: fit / predict / evaluate / save / load a NER or POS tagger from tagged sentences.

Chunk tags are converted on read to the training scheme (BIOES by default); predictions come out
in IOB2 (BIO) whatever the training data's scheme (``predict_tags(scheme=None)``: the training
data's own), spans first for raw text, and evaluation compares in the gold file's scheme. The dev metric is entity F1
(conlleval) for chunk tags, token accuracy for POS tags.

>>> from rnnlab.data.conll import Sentence
>>> from rnnlab.training import TrainConfig
>>> train = [Sentence(["John", "lives", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"]),
...          Sentence(["Mary", "saw", "Rome"], ["B-PER", "O", "B-LOC"])] * 8
>>> tagger = Tagger(TaggerConfig(hidden_size=8, word_dim=8, output="crf"),
...                 TrainConfig(max_epochs=25, lr=0.05, batch_size=4, patience=None))
>>> _ = tagger.fit(train, embeddings="none")
>>> tagger.predict_tags([["Mary", "lives", "in", "Rome"]])
[['B-PER', 'O', 'O', 'B-LOC']]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from rnnlab import io, tasks
from rnnlab.cards import model_card
from rnnlab.data.batching import bucket_loader
from rnnlab.data.conll import SCHEMES, Sentence, check_gold, check_training_tags, chunks, convert, detect_scheme
from rnnlab.data.vectors import Vectors, embedding_matrix, resolve_vectors
from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import DataError, ModelFileError, RnnlabError
from rnnlab.hub import locate
from rnnlab.metrics.sequence import span_report, token_accuracy
from rnnlab.tag.config import DEFAULT_TRAIN
from rnnlab.tag.features import Piece, TagDataset, text_pieces, tokenize_with_offsets
from rnnlab.tag.models import TagBatch, TaggerConfig, TaggerNet
from rnnlab.training import Objective, TrainConfig, fit

MAX_PIECE_CHARS = 20_000  # a longer text is tagged piece by piece (the service's cap on one text)
MAX_BATCH_TOKENS = 16_384  # tokens in one batch at most (fewer sentences when they are long): bounded memory
MAX_GROUP_TOKENS = 65_536  # tokens encoded at once by predict; a larger input is tagged group after group
MAX_SENTENCE_TOKENS = 4_096  # a longer tokenised sentence is tagged window by window


class _DevScore:
    """Corpus-level dev metric: entity F1 for chunk tags, token accuracy otherwise."""

    def __init__(self, tag_names: Sequence[str], chunked: bool) -> None:
        self.tag_names, self.chunked = list(tag_names), chunked
        self.gold: list[list[str]] = []
        self.pred: list[list[str]] = []

    def update(self, model: TaggerNet, batch: TagBatch) -> None:
        paths, _ = model.decode(batch, scores=False)
        assert batch.tags is not None
        for path, gold, n in zip(paths, batch.tags.tolist(), batch.lengths.tolist(), strict=True):
            self.pred.append([self.tag_names[i] for i in path])
            self.gold.append([self.tag_names[i] for i in gold[:n]])

    def compute(self) -> dict[str, float]:
        accuracy = token_accuracy(self.gold, self.pred)
        f1 = span_report(self.gold, self.pred)["micro"]["f1"] if self.chunked else accuracy
        return {"f1": f1, "accuracy": accuracy}


class Tagger:
    """A :class:`TaggerNet` with its word, character and tag vocabularies and tagging schemes."""

    def __init__(self, config: TaggerConfig | None = None, train_config: TrainConfig | None = None, *,
                 scheme: str = "BIOES", lowercase: bool = True, extra_vectors: int = 100_000,
                 min_freq: int = 1) -> None:  # fmt: skip
        self.config = config or TaggerConfig()
        self.train_config = train_config or DEFAULT_TRAIN
        self.scheme = scheme  # the training scheme for chunk tags
        self.input_scheme: str | None = None  # the scheme of the training data, used for output
        self.lowercase = lowercase
        self.extra_vectors = extra_vectors  # most frequent pretrained words added beyond the training words
        self.min_freq = min_freq  # training words seen fewer times share <unk> (characters still see them)
        self.net: TaggerNet | None = None
        self.words: Vocabulary | None = None
        self.chars: Vocabulary | None = None
        self.info: dict[str, Any] = {}

    # -- data --------------------------------------------------------------------------------
    @property
    def chunked(self) -> bool:
        return self.input_scheme is not None

    def _to_training(self, tags: Sequence[str]) -> list[str]:
        return convert(tags, self.input_scheme, self.scheme) if self.input_scheme else list(tags)

    def _dataset(
        self, sentences: Sequence[Sentence], *, with_tags: bool = True, features: Sequence[Sequence[int]] | None = None
    ) -> TagDataset:
        assert self.words is not None and self.chars is not None, "fit or load the tagger first"
        tags = None
        if with_tags:
            check_gold(sentences, self.config.tag_names, chunked=self.chunked)
            index = {t: i for i, t in enumerate(self.config.tag_names)}
            tags = []
            for s in sentences:
                converted = self._to_training(s.tags)
                unknown = sorted({tag for tag in converted if tag not in index})
                if unknown:  # named as the model reads them: a one-word chunk B-X is S-X in BIOES
                    raise DataError(f"tags {unknown[:5]} ({self.scheme if self.chunked else 'as written'}) were "
                                    f"not seen in training (known: {list(self.config.tag_names)[:12]}...)",
                                    line=s.line or None,
                                    hint="evaluate with the training data's tag column and scheme")  # fmt: skip
                tags.append([index[t] for t in converted])
        return TagDataset([s.tokens for s in sentences], self.words, self.chars, tags=tags, lowercase=self.lowercase,
                          features=features)  # fmt: skip

    def _loader(self, data: TagDataset, *, train: bool, batch_size: int | None = None) -> DataLoader:
        return bucket_loader(data, batch_size or self.train_config.batch_size, shuffle=train,
                             seed=self.train_config.seed)  # fmt: skip

    def _build_vocabularies(
        self, train: Sequence[Sentence], vectors: Vectors | None, exclude: Collection[str] = ()
    ) -> None:
        words = [[t.lower() if self.lowercase else t for t in s.tokens] for s in train]
        vocab = Vocabulary.build(words, min_freq=self.min_freq)
        if exclude:
            vocab = Vocabulary([t for i, t in enumerate(vocab.tokens) if i < 2 or t not in exclude])
        if vectors is not None and self.extra_vectors:
            # pretrained words never seen in training still get their vector (Lample et al. 2016)
            ranked = sorted(vectors.index, key=vectors.index.__getitem__)[: self.extra_vectors]
            seen = set(vocab.tokens)
            vocab = Vocabulary(vocab.tokens + [w for w in ranked if w not in seen])
        self.words = vocab
        self.chars = Vocabulary.build([list(t) for s in train for t in s.tokens], min_freq=1)

    # -- training ----------------------------------------------------------------------------
    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        embeddings: str | Path = "glove-6b-50d",
        out_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
        exclude_words: Collection[str] = (),
        features: Sequence[Sequence[int]] | None = None,
        dev_features: Sequence[Sequence[int]] | None = None,
    ) -> dict[str, Any]:
        """Build vocabularies on ``train``, initialise word vectors, train, keep the best dev score.

        ``exclude_words`` stay out of the word vocabulary (e.g. personal names, before a model is shipped).
        ``features`` / ``dev_features``: one extra categorical id per token (1, 2, ...; e.g. a rule's label),
        the tagger then needs them at prediction too (``predict(..., featurizer=...)``).
        ``out_dir``: where the training checkpoints go; ``resume``: continue an interrupted run from them.
        """
        if not train:
            raise DataError("no training sentences")
        check_training_tags(train)
        self.input_scheme = detect_scheme(s.tags for s in train)
        vectors = resolve_vectors(embeddings, None if self.extra_vectors else
                                  {t.lower() for s in train for t in s.tokens})  # fmt: skip
        self._build_vocabularies(train, vectors, exclude_words)
        coverage = self._build_network(train, vectors, features)
        if (features is None) != (dev_features is None) and dev is not None:
            raise ValueError("give features for both train and dev, or for neither")
        train_data = self._dataset(train, features=features)
        dev_data = None if dev is None else self._dataset(dev, features=dev_features)
        objective = Objective(loss=lambda model, batch: model.loss(batch), monitor="val_f1", mode="max",
                              evaluator=lambda: _DevScore(self.config.tag_names, self.chunked))  # fmt: skip
        result = fit(self.net, self._loader(train_data, train=True),
                     None if dev_data is None else self._loader(dev_data, train=False),
                     objective=objective, config=self.train_config, out_dir=out_dir, resume=resume,
                     progress=progress)  # fmt: skip
        self.info = {
            "embeddings": str(embeddings), "coverage": coverage, "words": len(self.words), "chars": len(self.chars),
            "tags": list(self.config.tag_names), "input_scheme": self.input_scheme, "train_sentences": len(train),
            "epochs": result.epochs, "best_epoch": result.best_epoch, "seconds": result.seconds,
            "best_dev": result.best_score if dev is not None else None,
            "train_sentences_per_s": len(train) * max(1, result.epochs) / max(result.seconds, 1e-9),
            "history": result.history,
        }  # fmt: skip
        return self.info

    def _build_network(self, train: Sequence[Sentence], vectors: Any, features: Sequence[Sequence[int]] | None
                       ) -> float | None:  # fmt: skip
        """The network sized by the vocabularies, the tag set and the features, its word embeddings initialised
        from ``vectors``; returns their coverage of the vocabulary (None without vectors)."""
        assert self.words is not None and self.chars is not None
        tag_set = sorted(_every_form({t for s in train for t in self._to_training(s.tags)},
                                     self.scheme if self.chunked else None))  # fmt: skip
        self.config = dataclasses.replace(
            self.config, n_words=len(self.words), n_chars=len(self.chars), tag_names=tuple(tag_set),
            scheme=self.scheme if self.chunked else None,
            word_dim=self.config.word_dim if vectors is None else vectors.dim,
            n_features=0 if features is None else max(self.config.n_features,
                                                      1 + max((max(f, default=0) for f in features), default=0)),
        )  # fmt: skip
        torch.manual_seed(self.train_config.seed)
        self.net = TaggerNet(self.config)
        if vectors is None:
            return None
        matrix, coverage = embedding_matrix(self.words, vectors, seed=self.train_config.seed)
        with torch.no_grad():
            self.net.words.weight.copy_(torch.from_numpy(matrix))
        return coverage

    # -- inference ---------------------------------------------------------------------------
    @torch.no_grad()
    def _decode(
        self,
        tokens: Sequence[Sequence[str]],
        batch_size: int,
        *,
        scores: bool = True,
        features: Sequence[Sequence[int]] | None = None,
        scheme: str | None = "IOB2",
    ) -> tuple[list[list[str]], list[np.ndarray]]:
        if self.net is None:
            raise RuntimeError("fit or load the tagger before predicting")
        if self.config.n_features and features is None:
            raise ValueError("this tagger was trained with per-token features: pass them (featurizer=...)")
        self.net.eval()
        data = TagDataset(tokens, self.words, self.chars, lowercase=self.lowercase,  # type: ignore[arg-type]
                          features=features if self.config.n_features else None)  # fmt: skip
        names = self.config.tag_names
        tags: list[list[str]] = [[] for _ in tokens]
        chosen: list[np.ndarray] = [np.zeros(0) for _ in tokens]
        for rows in _batches(data.lengths(), batch_size, MAX_BATCH_TOKENS):
            batch = data.collate(rows)
            paths, probs = self.net.decode(batch, scores=scores)
            for b, (row, path) in enumerate(zip(rows, paths, strict=True)):
                predicted = [names[i] for i in path]
                tags[row] = self._output_tags(predicted, scheme)
                if probs is not None:
                    chosen[row] = probs[b, torch.arange(len(path)), torch.tensor(path)].numpy()
        return tags, chosen

    def predict_tags(self, tokens: Sequence[Sequence[str]], *, batch_size: int = 64,
                     scheme: str | None = "IOB2") -> list[list[str]]:  # fmt: skip
        """Tags of tokenised sentences (a very long one window by window); chunk tags in ``scheme``: IOB2 (BIO)
        whatever the training data's scheme, or None for the training data's own (IOB1 for CoNLL-2003's files)."""
        if isinstance(tokens, str) or any(isinstance(s, str) for s in tokens):  # a str: one letter per token
            raise DataError("predict_tags takes sentences as lists of tokens, e.g. [['Anna', 'flew']]",
                            hint="split each text into tokens first, or use Tagger.predict(texts)")  # fmt: skip
        if any(len(s) == 0 for s in tokens):
            raise DataError("a sentence has no tokens", hint="drop empty sentences before tagging")
        step = MAX_SENTENCE_TOKENS
        windows = [(i, s[k : k + step]) for i, s in enumerate(tokens) for k in range(0, len(s), step)]
        tagged = self._decode([w for _, w in windows], batch_size, scores=False, scheme=scheme)[0]
        out: list[list[str]] = [[] for _ in tokens]
        for (i, _), tags in zip(windows, tagged, strict=True):
            out[i].extend(tags)
        return out

    def predict(
        self,
        texts: str | Sequence[str],
        *,
        batch_size: int = 64,
        tokenizer: Callable[[str], list[tuple[str, int, int]]] = tokenize_with_offsets,
        featurizer: Callable[[str, list[tuple[str, int, int]]], list[int]] | None = None,
        max_chars: int = MAX_PIECE_CHARS,
    ) -> list[dict[str, Any]]:
        """Raw texts → tokens with offsets, tags, and spans (type, character offsets, text, score).

        A span's score is the mean probability of its tags (CRF posterior marginals, or the softmax).
        ``tokenizer`` maps a text to (token, start, end) triples; use the one the tagger was trained with;
        ``featurizer`` (text, those triples) → one feature id per token, for a tagger trained with features.
        Texts are read in Unicode NFC (offsets index the texts as given); a text longer than ``max_chars`` is
        tagged piece by piece (cut at line and sentence ends), in batches of bounded size, so memory stays
        bounded whatever the input (:func:`~rnnlab.tag.features.text_pieces`).
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        out: list[dict[str, Any]] = [{"text": t, "tokens": [], "tags": [], "spans": []} for t in texts]
        group: list[tuple[int, Piece]] = []
        size = 0
        for i, text in enumerate(texts):
            for piece in text_pieces(text, tokenizer, max_chars):
                group.append((i, piece))
                size += len(piece.tokens)
                if size >= MAX_GROUP_TOKENS:
                    self._tag_pieces(group, out, batch_size, featurizer)
                    group, size = [], 0
        self._tag_pieces(group, out, batch_size, featurizer)
        return out

    def _tag_pieces(
        self,
        group: Sequence[tuple[int, Piece]],
        out: list[dict[str, Any]],
        batch_size: int,
        featurizer: Callable[[str, list[tuple[str, int, int]]], list[int]] | None,
    ) -> None:
        """Tag the pieces of ``group`` and append their tokens, tags and spans to their texts' results."""
        if not group:
            return
        features = None if featurizer is None else [featurizer(p.normal, p.normal_tokens) for _, p in group]
        tags, scores = self._decode([p.tokens for _, p in group], batch_size, features=features)
        for (i, piece), piece_tags, piece_scores in zip(group, tags, scores, strict=True):
            result, text = out[i], out[i]["text"]
            result["tokens"].extend({"text": text[s:e], "start": s, "end": e} for s, e in piece.spans)
            result["tags"].extend(piece_tags)
            for kind, begin, end in chunks(piece_tags) if self.chunked else ():
                start, stop = piece.spans[begin][0], piece.spans[end - 1][1]
                result["spans"].append(
                    {
                        "type": kind,
                        "start": start,
                        "end": stop,
                        "text": text[start:stop],
                        "score": float(piece_scores[begin:end].mean()),
                    }
                )

    def _output_tags(self, predicted: list[str], scheme: str | None) -> list[str]:
        """The network's tags (in the training scheme, BIOES by default) re-encoded for output."""
        if not self.chunked:
            return predicted
        return convert(predicted, self.scheme, scheme or self.input_scheme)  # type: ignore[arg-type]

    def evaluate(self, sentences: Sequence[Sentence], *, batch_size: int = 64) -> dict[str, Any]:
        """Entity P/R/F1 (micro, macro, per type; conlleval rules) and token accuracy, plus sentences/s."""
        self._dataset(sentences)  # unknown tags are a clear error before the work
        start = time.perf_counter()
        scheme = detect_scheme(s.tags for s in sentences) if self.chunked else None  # compared in the gold's scheme
        predicted = self.predict_tags([s.tokens for s in sentences], batch_size=batch_size, scheme=scheme)
        seconds = time.perf_counter() - start
        gold = [s.tags for s in sentences]
        if scheme is not None:  # token accuracy on one notation: IOB1 files mix B- and I- at a chunk's start
            gold, predicted = ([convert(t, scheme, "IOB2") for t in tags] for tags in (gold, predicted))
        report = span_report(gold, predicted)
        if not self.chunked:
            for key in ("micro", "macro", "per_type"):
                report.pop(key)
        report["sentences_per_s"] = len(sentences) / max(seconds, 1e-9)
        return report

    # -- files -------------------------------------------------------------------------------
    def save(self, directory: str | Path, *, overwrite: bool = False, half: bool = False) -> Path:
        """config.json + model.safetensors + words.json, chars.json, tagging.json."""
        if self.net is None or self.words is None or self.chars is None:
            raise RuntimeError("fit the tagger before saving it")
        self.net.assets = {
            "words": self.words.to_json(), "chars": self.chars.to_json(),
            "tagging": {"scheme": self.scheme, "input_scheme": self.input_scheme, "lowercase": self.lowercase,
                        "training": {k: v for k, v in self.info.items() if k != "history"}},
        }  # fmt: skip
        task = "extractor" if self.info.get("task") == "realestate-extraction" else "tagger"
        return io.save(self.net, directory, overwrite=overwrite, card=model_card(task, self.info), half=half)

    @classmethod
    def load(cls, directory: str | Path) -> Tagger:
        """A saved tagger from its directory, or a shipped one by name (``ner-en``, ``pos-en``, ``pos-fr``)."""
        tasks.expect(directory, "tagger", "extractor")  # an extractor is a tagger of ads
        directory = locate(directory)
        net = io.load_task(directory, TaggerNet, {"words", "chars", "tagging"}, "Tagger")
        settings = _settings(Path(directory) / "tagging.json", net.assets["tagging"])
        _check_scheme(Path(directory) / "tagging.json", settings, net.config.tag_names)
        tagger = cls(net.config, scheme=settings["scheme"], lowercase=settings["lowercase"])
        tagger.input_scheme = settings["input_scheme"]
        tagger.net = net
        for name, size in (("words", net.config.n_words), ("chars", net.config.n_chars)):
            try:
                vocab = Vocabulary.from_json(net.assets[name])
            except RnnlabError as exc:  # "a vocabulary starts with ...": name the file
                raise ModelFileError(f"{Path(directory) / name}.json: {exc}; save the model again") from None
            if len(vocab) != size:  # a cut file would read its missing entries as unknown, silently
                raise ModelFileError(f"{Path(directory) / name}.json holds {len(vocab)} entries for the network's "
                                     f"{size} embeddings (one each); was the file edited? save the model "
                                     "again")  # fmt: skip
            setattr(tagger, name, vocab)
        tagger.info = dict(settings.get("training", {}))
        return tagger


def _settings(path: Path, settings: Any) -> dict[str, Any]:
    """tagging.json, checked: an edited file is a one-line error naming it and the field, not a KeyError."""
    if not isinstance(settings, dict):
        raise ModelFileError(f"{path} must hold a JSON object (scheme, input_scheme, lowercase, training), received "
                             f"{type(settings).__name__} {str(settings)[:40]}; was the file edited? save the model "
                             "again")  # fmt: skip
    for key, types in (("scheme", (str,)), ("input_scheme", (str, type(None))), ("lowercase", (bool,))):
        if key not in settings:
            raise ModelFileError(f'{path} lacks "{key}"; was the file edited? save the model again')
        io.json_field(path, key, settings[key], *types)
        if isinstance(settings[key], str) and settings[key] not in SCHEMES:
            raise ModelFileError(f"{path}: \"{key}\" must be one of {list(SCHEMES)}, received {settings[key]!r}; "
                                 "was the file edited? save the model again")  # fmt: skip
    io.json_field(path, "training", settings.get("training", {}), dict)
    return settings


def _check_scheme(path: Path, settings: dict[str, Any], tag_names: Sequence[str]) -> None:
    """tagging.json's schemes agree with the network's tags: chunk tags (``O``, ``B-X`` ...) in the prefixes of
    ``scheme`` when ``input_scheme`` is set, other tags (parts of speech) when it is null; an edit that breaks this
    would decode every answer wrongly, without a word."""
    prefixes = "BIES" if settings["scheme"] == "BIOES" else "BI"
    chunk = [t == "O" or (len(t) > 2 and t[1] == "-" and t[0] in "BIES") for t in tag_names]
    if settings["input_scheme"] is not None:
        bad = [t for t in tag_names if t != "O" and not (len(t) > 2 and t[1] == "-" and t[0] in prefixes)]
        if bad:
            raise ModelFileError(f"{path}: \"scheme\" {settings['scheme']} and \"input_scheme\" "
                                 f"{settings['input_scheme']} name chunk tags, but the network tags {bad[:5]}; was "
                                 "the file edited? save the model again")  # fmt: skip
    elif all(chunk) and any(t != "O" for t in tag_names):
        raise ModelFileError(f"{path}: \"input_scheme\" is null (tags as written, e.g. parts of speech), but the "
                             f"network's tags {list(tag_names)[:5]} are chunk tags; was the file edited? save the "
                             "model again")  # fmt: skip


def _batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> Iterator[list[int]]:
    """Rows sorted by length, cut into batches of at most ``batch_size`` rows and ``max_tokens`` padded tokens
    (a row longer than ``max_tokens`` alone in its batch).

    >>> list(_batches([5, 1, 300, 2], 3, 400))
    [[1, 3, 0], [2]]
    """
    batch: list[int] = []
    for row in np.argsort(np.asarray(lengths), kind="stable").tolist():
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * lengths[row] > max_tokens):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _every_form(tags: set[str], scheme: str | None) -> set[str]:
    """The training tags plus, for chunk tags, every form of each entity type in ``scheme``: a type seen only in
    chunks of two words (B-X, E-X in BIOES) can still be scored and predicted as a one-word chunk (S-X), so a dev
    file with one is not refused.

    >>> sorted(_every_form({"O", "B-ROOMS", "E-ROOMS"}, "BIOES"))
    ['B-ROOMS', 'E-ROOMS', 'I-ROOMS', 'O', 'S-ROOMS']
    >>> sorted(_every_form({"NOUN", "VERB"}, None))
    ['NOUN', 'VERB']
    """
    if scheme is None:
        return set(tags)
    prefixes = "BIES" if scheme == "BIOES" else "BI"
    types = {t[2:] for t in tags if t != "O"}
    return {"O", *tags, *(f"{p}-{k}" for p in prefixes for k in types)}
