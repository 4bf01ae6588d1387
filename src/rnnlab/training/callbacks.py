"""Callbacks of the training engine: keep the best weights in memory, record the per-epoch history."""

from __future__ import annotations

import copy
import math
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import Sampler


def _improved(value: float, best: float | None, mode: str) -> bool:
    if math.isnan(value):
        return False
    return best is None or (value < best if mode == "min" else value > best)


class BestWeights(Callback):
    """Keeps a copy of the weights at the best ``monitor`` value (when no files may be written)."""

    def __init__(self, monitor: str, mode: str) -> None:
        self.monitor, self.mode = monitor, mode
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # runs after the epoch's validation, and also when there is no dev set
        if self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        if _improved(value, self.best, self.mode):
            self.best, self.best_epoch = value, trainer.current_epoch
            self.state = copy.deepcopy(module.state_dict())


class History(Callback):
    """One dict of logged metrics per epoch (train and dev), for reports and plots."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        row: dict[str, Any] = {"epoch": trainer.current_epoch}
        row.update({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})
        self.epochs.append(row)


class SeededSampler(Sampler[int]):
    """Shuffles with a permutation that depends only on (seed, epoch).

    Lightning calls ``set_epoch`` at each epoch, so a resumed run sees the same batches as
    an uninterrupted one.

    >>> s = SeededSampler(5, seed=0)
    >>> s.set_epoch(1); a = list(s); s.set_epoch(1); a == list(s)
    True
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n
