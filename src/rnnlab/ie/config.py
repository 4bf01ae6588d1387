"""The extractor's tagger and training defaults, without PyTorch: the CLI generates ``extract fit``'s options
from them and ``rnnlab --help`` stays fast (the extractor is in :mod:`rnnlab.ie.extractor`)."""

from __future__ import annotations

from rnnlab.tag.config import TaggerConfig
from rnnlab.training.config import TrainConfig


def default_tagger_config() -> TaggerConfig:
    """Char-CNN + word BiLSTM-CRF, small enough to ship (random word vectors: French ads, no English GloVe)."""
    return TaggerConfig(
        arch="lstm",
        bidirectional=True,
        hidden_size=64,
        word_dim=48,
        char="cnn",
        char_dim=16,
        char_hidden=32,
        output="crf",
        dropout=0.4,
    )


def default_train_config() -> TrainConfig:
    return TrainConfig(lr=3e-3, batch_size=8, max_epochs=25, patience=4, gradient_clip=5.0, seed=0)
