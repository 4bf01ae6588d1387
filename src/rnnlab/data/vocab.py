"""Vocabulary: tokens to ids with padding and out-of-vocabulary ids, min frequency and max size; JSON round-trip.

>>> v = Vocabulary.build([["a", "b", "a"], ["c", "a"]], min_freq=1)
>>> v.tokens
['<pad>', '<unk>', 'a', 'b', 'c']
>>> v.encode(["a", "zzz"])
[2, 1]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from rnnlab.errors import ConfigError, ModelFileError

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """Id 0 is padding, id 1 stands for every unknown token; the rest by falling frequency, then alphabetically."""

    pad_id = 0
    unk_id = 1

    def __init__(self, tokens: Sequence[str]) -> None:
        if list(tokens[:2]) != [PAD, UNK]:
            raise ModelFileError(f"a vocabulary starts with {[PAD, UNK]}, received {list(tokens[:2])}")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ModelFileError("the vocabulary lists a token twice")

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], *, min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        """Count tokens; keep those seen ``min_freq`` times or more, the ``max_size`` most frequent."""
        if min_freq < 1:
            raise ConfigError(f"min_freq must be >= 1, received {min_freq}")
        if max_size is not None and max_size < 1:
            raise ConfigError(f"max_size must be >= 1 or None, received {max_size}")
        counts = Counter(t for seq in sequences for t in seq)
        kept = sorted(
            (t for t, n in counts.items() if n >= min_freq and t not in (PAD, UNK)), key=lambda t: (-counts[t], t)
        )
        return cls([PAD, UNK, *kept[:max_size]])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Sequence[str]) -> list[int]:
        get = self.index.get
        return [get(t, 1) for t in tokens]

    def to_json(self) -> list[str]:
        return list(self.tokens)

    @classmethod
    def from_json(cls, value: Any) -> Vocabulary:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise ModelFileError("a vocabulary file holds a JSON list of tokens")
        return cls(value)
