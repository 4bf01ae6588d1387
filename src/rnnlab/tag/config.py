"""A tagger's config and the task's training defaults, without PyTorch: the CLI generates its options from them
and ``rnnlab --help`` stays fast (the network is in :mod:`rnnlab.tag.models`)."""

from __future__ import annotations

import dataclasses

from rnnlab.config import Config, doc
from rnnlab.data.conll import SCHEMES
from rnnlab.errors import ConfigError
from rnnlab.training.config import TrainConfig

ARCHS: tuple[str, ...] = ("window-mlp", "rnn", "lstm", "gru")
CHARS: tuple[str, ...] = ("none", "lstm", "cnn")
OUTPUTS: tuple[str, ...] = ("softmax", "crf")


@dataclasses.dataclass(frozen=True)
class TaggerConfig(Config):
    """Architecture of a tagger; ``tag_names`` and ``scheme`` fix the output layer and its CRF constraints."""

    kind = "TaggerNet"
    n_words: int = doc(2, "Words in the vocabulary (set from the data and the vectors).")
    n_chars: int = doc(2, "Characters in the vocabulary (set from the data).")
    tag_names: tuple[str, ...] = doc(("O",), "The tags (set from the data).")
    scheme: str | None = doc(None, "IOB1 / IOB2 / BIOES for chunk tags, None for POS (set from the data).")
    arch: str = doc("lstm", "window-mlp (Collobert et al.'s window approach) or a recurrent layer.", choices=ARCHS)
    bidirectional: bool = doc(True, "Read both directions.")
    num_layers: int = doc(1, "Stacked recurrent layers.")
    hidden_size: int = doc(100, "Hidden units per direction (or of the MLP).")
    word_dim: int = doc(50, "Word embedding size when there are no pretrained vectors (embeddings 'none').")
    casing_dim: int = doc(8, "Size of the casing feature's embedding; 0: no casing feature.")
    char: str = doc("none", "Character encoder: none, a BiLSTM (Lample et al.) or a CNN (Ma & Hovy).", choices=CHARS)
    char_dim: int = doc(25, "Character embedding size.")
    char_hidden: int = doc(25, "Character encoder units per direction (lstm) or filters (cnn).")
    window: int = doc(2, "window-mlp: ±k words.")
    output: str = doc("softmax", "Output layer: per-token softmax or a linear-chain CRF.", choices=OUTPUTS)
    dropout: float = doc(0.5, "Dropout on the word features and before the output layer.")
    word_dropout: float = doc(
        0.0,
        "Training: probability that a word reads as <unk> (its characters remain), so the <unk> vector "
        "learns to stand for unseen words (Lample et al.).",
    )
    n_features: int = doc(0, "Values of an extra per-token categorical input (0: none; id 0 is padding).")
    feature_dim: int = doc(8, "Embedding size of the extra per-token input.")

    def __post_init__(self) -> None:
        for name, allowed in (("arch", ARCHS), ("char", CHARS), ("output", OUTPUTS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {list(allowed)}, received {getattr(self, name)!r}")
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise ConfigError(f"scheme must be one of {list(SCHEMES)} or None, received {self.scheme!r}")
        for name in (
            "n_words",
            "n_chars",
            "hidden_size",
            "word_dim",
            "char_dim",
            "char_hidden",
            "num_layers",
            "feature_dim",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, received {getattr(self, name)!r}")
        if not isinstance(self.tag_names, tuple | list):  # a string would be read letter by letter
            raise ConfigError(f"tag_names must be a list of tag names, received {self.tag_names!r}")
        if not self.tag_names:
            raise ConfigError("tag_names must list the tags")
        odd = [t for t in self.tag_names if not isinstance(t, str) or not t]
        if odd or len(set(self.tag_names)) < len(self.tag_names):
            what = f"received {odd[0]!r} among them" if odd else "one is listed twice"
            raise ConfigError(f"tag_names must list distinct, non-empty tag names (strings), {what}")
        for name in ("dropout", "word_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), received {getattr(self, name)!r}")
        if self.window < 0 or self.casing_dim < 0 or self.n_features < 0:
            raise ConfigError("window, casing_dim and n_features must be >= 0")


# how a tagger trains unless told otherwise (the CLI's defaults agreed already)
DEFAULT_TRAIN = TrainConfig(lr=1e-3, batch_size=32, max_epochs=30, patience=5)
