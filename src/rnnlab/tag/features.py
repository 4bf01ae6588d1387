"""Tagger inputs: casing classes, character vocabulary, sentences → padded :class:`TagBatch`, a rule tokenizer,
long raw texts → bounded :class:`Piece` s of NFC tokens with offsets into the original text.

>>> [casing(t) for t in ["1996", "1.5", "paris", "EU", "Paris", "(3)", "--"]]
[1, 2, 3, 4, 5, 6, 7]
>>> [(t, s) for t, s, _ in tokenize_with_offsets("Mr. Smith's car")]
[('Mr', 0), ('.', 2), ('Smith', 4), ("'s", 9), ('car', 12)]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence

import torch
from torch.utils.data import Dataset

from rnnlab.data.text import nfc_with_offsets, original_span, pieces
from rnnlab.data.vocab import Vocabulary
from rnnlab.tag.models import TagBatch

MAX_WORD_CHARS = 24  # longer words keep their first 12 and last 12 characters
_RAW_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|\w+(?:[-&]\w+)*|'s\b|n't\b|[^\w\s]")


def casing(token: str) -> int:
    """1 numeric, 2 mainly numeric, 3 lower, 4 upper, 5 initial capital, 6 has a digit, 7 other (0 is padding)."""
    if token.isdigit():
        return 1
    digits = sum(ch.isdigit() for ch in token)
    if digits / max(1, len(token)) > 0.5:
        return 2
    if token.islower():
        return 3
    if token.isupper():
        return 4
    if token[:1].isupper():
        return 5
    return 6 if digits else 7


def char_ids(token: str, chars: Vocabulary) -> list[int]:
    if len(token) > MAX_WORD_CHARS:
        half = MAX_WORD_CHARS // 2
        token = token[:half] + token[-half:]
    return chars.encode(list(token))


def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) over raw text: words, numbers, clitics ``'s``/``n't`` and single punctuation marks."""
    return [(m.group(), m.start(), m.end()) for m in _RAW_TOKEN.finditer(text)]


@dataclasses.dataclass
class Piece:
    """A piece of a raw text, tokenised: ``tokens`` (NFC) and their ``spans`` in the original text (absolute
    offsets, whole combining sequences); ``normal`` the piece in NFC with the tokens' ``(token, start, end)`` in
    it, ``normal_tokens``, what a featurizer reads."""

    tokens: list[str]
    spans: list[tuple[int, int]]
    normal: str
    normal_tokens: list[tuple[str, int, int]]


def text_pieces(text: str, tokenizer: Callable[[str], list[tuple[str, int, int]]], max_chars: int) -> Iterator[Piece]:
    """The tokens of ``text``, piece by piece (:func:`~rnnlab.data.text.pieces`, at most ``max_chars`` each).

    Each piece is normalised to NFC before ``tokenizer`` reads it ("Lo\\u0301pez" is the word "López"), and
    offsets are mapped back, so a span indexes the caller's string and never cuts a combining sequence: a mark
    that NFC cannot compose joins the token before it.

    >>> [(p.tokens, p.spans) for p in text_pieces("Lo\\u0301pez ran.", tokenize_with_offsets, 100)]
    [(['López', 'ran', '.'], [(0, 6), (7, 10), (10, 11)])]
    """
    for start, end in pieces(text, max_chars):
        normal, origin = nfc_with_offsets(text[start:end])
        piece = Piece([], [], normal, [])
        for token, s, e in tokenizer(normal):
            a, b = original_span(origin, s, e)
            if piece.spans and a < piece.spans[-1][1] - start:
                s = piece.normal_tokens[-1][1]  # inside the sequence the token before ends in: one token
                piece.tokens.pop(), piece.spans.pop(), piece.normal_tokens.pop()
                a = original_span(origin, s, e)[0]
                token = normal[s:e]
            piece.tokens.append(token)
            piece.spans.append((start + a, start + b))
            piece.normal_tokens.append((token, s, e))
        if piece.tokens:
            yield piece


class TagDataset(Dataset):
    """Sentences encoded once: word ids (lowercased lookup), casing ids, character ids, tag ids."""

    def __init__(self, sentences: Sequence[Sequence[str]], words: Vocabulary, chars: Vocabulary, *,
                 tags: Sequence[Sequence[int]] | None = None, lowercase: bool = True,
                 features: Sequence[Sequence[int]] | None = None) -> None:  # fmt: skip
        self.words = [words.encode([t.lower() if lowercase else t for t in s]) for s in sentences]
        shapes: dict[str, int] = {}  # a token's casing and characters are read once per batch of sentences
        self.casing = [[shapes[t] if t in shapes else shapes.setdefault(t, casing(t)) for t in s] for s in sentences]
        cache: dict[str, list[int]] = {}
        self.chars = [[cache[t] if t in cache else cache.setdefault(t, char_ids(t, chars)) for t in s]
                      for s in sentences]  # fmt: skip
        self.tags = None if tags is None else [list(t) for t in tags]
        self.features = None if features is None else [list(f) for f in features]
        if self.features is not None and [len(f) for f in self.features] != [len(w) for w in self.words]:
            raise ValueError("features need one id per token of each sentence")

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, i: int) -> int:
        return i

    def lengths(self) -> list[int]:
        return [len(s) for s in self.words]

    def collate(self, rows: Sequence[int]) -> TagBatch:
        B = len(rows)
        lengths = torch.tensor([len(self.words[i]) for i in rows])
        T = int(lengths.max())
        C = max(len(c) for i in rows for c in self.chars[i])
        words = torch.zeros(B, T, dtype=torch.long)
        case = torch.zeros(B, T, dtype=torch.long)
        chars = torch.zeros(B, T, C, dtype=torch.long)
        char_lengths = torch.zeros(B, T, dtype=torch.long)
        tags = None if self.tags is None else torch.zeros(B, T, dtype=torch.long)
        features = None if self.features is None else torch.zeros(B, T, dtype=torch.long)
        for b, i in enumerate(rows):
            n = len(self.words[i])
            words[b, :n] = torch.tensor(self.words[i])
            case[b, :n] = torch.tensor(self.casing[i])
            # every character of the sentence in one assignment: (word, position in word) of each
            sizes = torch.tensor([len(ids) for ids in self.chars[i]])
            char_lengths[b, :n] = sizes
            flat = torch.tensor([c for ids in self.chars[i] for c in ids])
            starts = torch.repeat_interleave(torch.cumsum(sizes, 0) - sizes, sizes)
            chars[b, torch.repeat_interleave(torch.arange(n), sizes), torch.arange(len(flat)) - starts] = flat
            if tags is not None:
                tags[b, :n] = torch.tensor(self.tags[i])  # type: ignore[index]
            if features is not None:
                features[b, :n] = torch.tensor(self.features[i])  # type: ignore[index]
        return TagBatch(words, case, chars, char_lengths, lengths, tags, torch.tensor(list(rows)), features)
