"""Batches of token-id sequences: bucketing by similar length (so padding costs little) and a padded collate.

>>> s = BucketBatchSampler([5, 1, 4, 2, 3, 6], batch_size=2, shuffle=False)
>>> list(s)
[[1, 3], [4, 2], [0, 5]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler


@dataclasses.dataclass
class TokenBatch:
    """``tokens`` (B, T) ids padded with 0, ``lengths`` (B,), ``labels`` (B,) or None, ``index`` (B,) rows."""

    tokens: Tensor
    lengths: Tensor
    labels: Tensor | None
    index: Tensor

    @property
    def batch_size(self) -> int:
        return int(self.tokens.shape[0])

    def to(self, device: torch.device | str) -> TokenBatch:
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return TokenBatch(move(self.tokens), move(self.lengths), move(self.labels), move(self.index))


class TokenDataset(Dataset):
    """Token-id sequences (each at least one id) and optional integer labels."""

    def __init__(self, ids: Sequence[Sequence[int]], labels: Sequence[int] | None = None) -> None:
        self.ids = [list(s) if len(s) else [1] for s in ids]  # an empty text reads as one unknown token
        self.labels = None if labels is None else list(labels)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> int:
        return i

    def lengths(self) -> list[int]:
        return [len(s) for s in self.ids]

    def collate(self, rows: Sequence[int]) -> TokenBatch:
        lengths = torch.tensor([len(self.ids[i]) for i in rows], dtype=torch.long)
        tokens = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
        for b, i in enumerate(rows):
            tokens[b, : lengths[b]] = torch.tensor(self.ids[i])
        labels = None if self.labels is None else torch.tensor([self.labels[i] for i in rows], dtype=torch.long)
        return TokenBatch(tokens, lengths, labels, torch.tensor(list(rows), dtype=torch.long))


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of rows of similar length; shuffled by (seed, epoch) when ``shuffle``.

    Rows are shuffled, cut into pools of ``pool`` batches, sorted by length inside each pool and
    batched; the batch order is shuffled again (as torchtext's BucketIterator and AllenNLP's
    bucket sampler do). Without ``shuffle`` all rows are sorted by length (fastest inference).
    Lightning calls ``set_epoch`` so a resumed run sees the same batches.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, *, shuffle: bool = True, seed: int = 0, pool: int = 50
    ) -> None:
        self.lengths = np.asarray(lengths)
        self.batch_size, self.shuffle, self.seed, self.pool = batch_size, shuffle, seed, pool
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        n, size = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            return [order[i : i + size].tolist() for i in range(0, n, size)]
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n)
        batches: list[list[int]] = []
        step = size * self.pool
        for start in range(0, n, step):
            chunk = order[start : start + step]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + size].tolist() for i in range(0, len(chunk), size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


def bucket_loader(data: Dataset, batch_size: int, *, shuffle: bool, seed: int = 0) -> DataLoader:
    """A DataLoader over ``data`` (with ``lengths()`` and ``collate``) in length buckets."""
    sampler = BucketBatchSampler(data.lengths(), batch_size, shuffle=shuffle, seed=seed)  # type: ignore[attr-defined]
    return DataLoader(data, batch_sampler=sampler, collate_fn=data.collate)  # type: ignore[attr-defined]
