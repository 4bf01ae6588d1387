"""A text classifier's configs (network, text handling) and the task's training defaults, without PyTorch: the
CLI generates its options from them and ``rnnlab --help`` stays fast (the network is in
:mod:`rnnlab.classify.models`, the tokenizer and training in :mod:`rnnlab.classify.classifier`)."""

from __future__ import annotations

import dataclasses

from rnnlab.config import Config, doc
from rnnlab.data.text import TRUNCATIONS
from rnnlab.errors import ConfigError
from rnnlab.training.config import TrainConfig

ARCHS: tuple[str, ...] = ("lstm-last", "bilstm-pool")
CELLS: tuple[str, ...] = ("lstm", "gru")
POOLINGS: tuple[str, ...] = ("max", "mean", "attention", "max-mean")


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(Config):
    """Architecture of a text classifier (vocabulary and label names are stored beside it as assets)."""

    kind = "TextClassifierNet"
    vocab_size: int = doc(2, "Words in the vocabulary (set from the training texts).")
    n_classes: int = doc(2, "Classes (set from the training labels).")
    arch: str = doc(
        "bilstm-pool",
        "lstm-last (solution 1: the state at each text's last token) or bilstm-pool (solution 2: a bidirectional "
        "layer's outputs pooled over the tokens).",
        choices=ARCHS,
    )
    cell: str = doc("lstm", "The recurrent cell.", choices=CELLS)
    embedding_dim: int = doc(50, "Embedding size when there are no pretrained vectors (embeddings 'none').")
    hidden_size: int = doc(128, "Hidden units per direction.")
    num_layers: int = doc(1, "Stacked recurrent layers.")
    pooling: str = doc("max", "Pooling over the tokens (bilstm-pool).", choices=POOLINGS)
    dropout: float = doc(0.4, "Dropout between layers and before the classifier.")
    embedding_dropout: float = doc(0.3, "Word dropout on the embeddings (single occurrences).")
    freeze_embeddings: bool = doc(False, "Keep the pretrained vectors fixed (default: fine-tune them).")
    # ids 0..N-1 are the N most frequent words: the vocabulary is sorted by frequency
    finetune_top: int | None = doc(
        None,
        "Fine-tune only the vectors of the N most frequent words, keep the rarer ones as pretrained; "
        "none: fine-tune all (unless freeze_embeddings).",
    )
    # Gal & Ghahramani 2016's embedding dropout, as in AWD-LSTM, on top of embedding_dropout
    type_dropout: float = doc(
        0.0, "Drop whole word types per batch (every occurrence of a dropped word reads as zeros)."
    )
    weight_dropout: float = doc(
        0.0, "DropConnect on the recurrent hidden-to-hidden weights (AWD-LSTM's weight drop), e.g. 0.5."
    )
    adversarial: float = doc(
        0.0,
        "Adversarial training (Miyato et al. 2017): size of the worst-case perturbation of each text's embedded "
        "words, in word-vector norms (e.g. 1.0); 0: off. About doubles the training time.",
    )
    # Lakshminarayanan et al. 2017; the pretrained vectors are shared by the members
    members: int = doc(
        1,
        "A deep ensemble: this many networks (member k is the single one of seed + k, trained one after the "
        "other, max_time shared), their probabilities averaged.",
    )

    def __post_init__(self) -> None:
        for name, allowed in (("arch", ARCHS), ("cell", CELLS), ("pooling", POOLINGS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {list(allowed)}, received {getattr(self, name)!r}")
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers", "members"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, received {getattr(self, name)!r}")
        if self.members > 64:  # each member is a whole training run
            raise ConfigError(f"members (--members) must be at most 64 networks, received {self.members}")
        if self.finetune_top is not None and (isinstance(self.finetune_top, bool) or self.finetune_top < 0):
            raise ConfigError(f"finetune_top must be a number of words >= 0 or None, received {self.finetune_top!r}")
        if self.n_classes < 2:
            raise ConfigError(f"a classifier needs at least 2 classes, received {self.n_classes}")
        for name in ("dropout", "embedding_dropout", "type_dropout", "weight_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), received {getattr(self, name)!r}")
        if not self.adversarial >= 0:
            raise ConfigError(f"adversarial must be >= 0 (0: no adversarial training), received {self.adversarial!r}")


@dataclasses.dataclass(frozen=True)
class TextConfig(Config):
    """How texts become ids: tokenizer, vocabulary limits and truncation (head, tail or both halves)."""

    kind = "text"
    lowercase: bool = doc(True, "Lowercase the texts (GloVe 6B is lowercased).")
    min_freq: int = doc(2, "Minimum count of a word in the training texts to enter the vocabulary.")
    max_vocab: int | None = doc(50_000, "Largest vocabulary; none: every word seen min_freq times.")
    max_len: int | None = doc(400, "Tokens kept per text; none: all.")
    truncation: str = doc("both", "Which tokens a long text keeps.", choices=TRUNCATIONS)

    def __post_init__(self) -> None:
        if self.truncation not in TRUNCATIONS:
            raise ConfigError(f"truncation must be one of {list(TRUNCATIONS)}, received {self.truncation!r}")
        if self.max_len is not None and self.max_len < 1:
            raise ConfigError(f"max_len must be >= 1 or None, received {self.max_len}")
        if self.max_vocab is not None and self.max_vocab < 1:  # named before the data is read, with its flag
            raise ConfigError(f"max_vocab must be >= 1 or None (every word), received {self.max_vocab}")
        if self.min_freq < 1:
            raise ConfigError(f"min_freq must be >= 1, received {self.min_freq}")


# how a classifier trains unless told otherwise: the IMDb benchmark's bilstm-pool (benchmarks/classify_imdb.py)
DEFAULT_TRAIN = TrainConfig(lr=2e-3, batch_size=32, max_epochs=10, patience=3)
