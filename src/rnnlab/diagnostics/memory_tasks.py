"""Long-memory tasks with a controllable lag T, generated on the fly and seeded (Hochreiter & Schmidhuber 1997).

- The adding problem: T steps of (value ~ U(0, 1), marker); two steps are marked, one in
  each half; the target is the sum of the two marked values. Always answering 1 scores
  MSE = Var(U + U) = 1/6 ≈ 0.167, the trivial baseline.
- The recall task: T one-hot symbols out of K; the target is the first one. Guessing
  scores accuracy 1/K (cross-entropy log K).

>>> x, y = adding_problem(3, 10, generator=torch.Generator().manual_seed(0))
>>> x.shape, y.shape, x[..., 1].sum(1).tolist()
(torch.Size([3, 10, 2]), torch.Size([3, 1]), [2.0, 2.0, 2.0])
>>> bool(torch.allclose((x[..., 0] * x[..., 1]).sum(1, keepdim=True), y))
True
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor
from torch.utils.data import Dataset

Task = Literal["adding", "recall"]
TASKS: tuple[str, ...] = ("adding", "recall")
ADDING_BASELINE_MSE = 1 / 6


def adding_problem(n: int, length: int, *, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """n sequences (n, T, 2) of [value, marker] and their targets (n, 1)."""
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, received {length}")
    values = torch.rand(n, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, length, (n,), generator=generator)
    markers = torch.zeros(n, length)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = (values * markers).sum(1, keepdim=True)
    return torch.stack([values, markers], dim=-1), target


def recall_task(n: int, length: int, *, n_symbols: int = 8, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """n sequences (n, T, K) of one-hot symbols and the index of the first symbol (n,)."""
    symbols = torch.randint(0, n_symbols, (n, length), generator=generator)
    return torch.nn.functional.one_hot(symbols, n_symbols).float(), symbols[:, 0]


def baseline(task: str, n_symbols: int = 8) -> dict[str, float]:
    """What a model that learned nothing scores."""
    if task == "adding":
        return {"mse": ADDING_BASELINE_MSE}
    return {"accuracy": 1 / n_symbols, "cross_entropy": math.log(n_symbols)}


def make_batch(task: str, n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    if task == "adding":
        return adding_problem(n, length, generator=generator)
    if task == "recall":
        return recall_task(n, length, generator=generator)
    raise ValueError(f"task must be one of {list(TASKS)}, received {task!r}")


class TaskBatches(Dataset):
    """``n_batches`` batches of a memory task; batch i is generated from (seed, i), so every epoch
    and every run sees the same data without storing it."""

    def __init__(self, task: str, length: int, *, batch_size: int, n_batches: int, seed: int) -> None:
        make_batch(task, 1, max(length, 2), torch.Generator())  # validates the task name early
        self.task, self.length, self.batch_size, self.n_batches, self.seed = task, length, batch_size, n_batches, seed

    def __len__(self) -> int:
        return self.n_batches

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        return make_batch(self.task, self.batch_size, self.length, g)
