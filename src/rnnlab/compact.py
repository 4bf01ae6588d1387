"""Smaller saved models, for shipping: a tagger's or classifier's word vocabulary cut to its first rows (the
training words come first, then the pretrained words by frequency), and weights stored as float16
(``rnnlab.save(..., half=True)``; read back as float32). ``benchmarks/build_models.py`` measures what each costs."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from rnnlab.data.vocab import Vocabulary
from rnnlab.errors import ConfigError


def _parts(model: Any) -> tuple[str, str, str]:
    """(vocabulary attribute, embedding attribute of the network, config field) of a tagger or a classifier."""
    from rnnlab.classify.classifier import TextClassifier
    from rnnlab.tag.tagger import Tagger

    if isinstance(model, Tagger):
        return "words", "words", "n_words"
    if isinstance(model, TextClassifier):
        return "vocab", "embedding", "vocab_size"
    raise TypeError(f"compact takes a Tagger or a TextClassifier, not a {type(model).__name__}")


def keep_words(model: Any, max_words: int) -> int:
    """Cut ``model``'s word vocabulary and embedding to its first ``max_words`` entries, in place; the words cut
    are read as unknown from then on. Returns the rows removed."""
    vocab_attr, emb_attr, field = _parts(model)
    vocab: Vocabulary = getattr(model, vocab_attr)
    if max_words < 2:
        raise ConfigError(f"max_words must be >= 2 (<pad> and <unk>), received {max_words}")
    removed = max(0, len(vocab) - max_words)
    if not removed:
        return 0
    net = model.net
    old: nn.Embedding = getattr(net, emb_attr)
    new = nn.Embedding(max_words, old.embedding_dim, padding_idx=old.padding_idx)
    with torch.no_grad():
        new.weight.copy_(old.weight[:max_words])
    setattr(net, emb_attr, new)
    net.config = dataclasses.replace(net.config, **{field: max_words})
    if getattr(model, "config", None) is not None and hasattr(model.config, field):
        model.config = net.config
    setattr(model, vocab_attr, Vocabulary(vocab.tokens[:max_words]))
    return removed
