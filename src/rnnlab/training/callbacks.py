"""Callbacks of the training engine: keep the best weights in memory, average weights (SWA), record the history."""

from __future__ import annotations

import copy
import math
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, WeightAveraging
from torch.utils.data import Sampler


def _improved(value: float, best: float | None, mode: str) -> bool:
    if math.isnan(value):
        return False
    return best is None or (value < best if mode == "min" else value > best)


class AveragedWeights(WeightAveraging):
    """Stochastic weight averaging (Izmailov et al. 2018): the running mean of the weights after every
    optimizer step from epoch ``start`` (0-based) on.

    Once the average holds a step, validation, checkpoints and the weights left after training are
    the average's (Lightning's ``WeightAveraging`` swaps them in); before that, the current ones.
    """

    def __init__(self, start: int) -> None:
        super().__init__()
        self.start = start
        self._epoch = 0

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._epoch = trainer.current_epoch

    def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
        return step_idx is not None and self._epoch >= self.start

    @property
    def active(self) -> bool:
        """True once the average holds at least one step."""
        return self._average_model is not None and int(self._average_model.n_averaged) > 0

    def averaged_state(self) -> dict[str, torch.Tensor]:
        """The averaged weights, keyed like the training module's ``state_dict``."""
        assert self._average_model is not None
        return copy.deepcopy(self._average_model.module.state_dict())

    def on_validation_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.active:
            super().on_validation_epoch_start(trainer, module)

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.active:
            super().on_validation_epoch_end(trainer, module)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.active:
            super().on_train_end(trainer, module)

    def on_save_checkpoint(self, trainer: L.Trainer, module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        if self.active:
            super().on_save_checkpoint(trainer, module, checkpoint)

    def on_load_checkpoint(self, trainer: L.Trainer, module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        if "current_model_state" in checkpoint:  # saved while averaging: restore the average too
            super().on_load_checkpoint(trainer, module, checkpoint)


class BestWeights(Callback):
    """Keeps a copy of the weights at the best ``monitor`` value (when no files may be written).

    With ``averager``, the averaged weights are kept once averaging has begun (they are what was validated).
    """

    def __init__(self, monitor: str, mode: str, averager: AveragedWeights | None = None) -> None:
        self.monitor, self.mode, self.averager = monitor, mode, averager
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # runs after the epoch's validation, and also when there is no dev set
        if self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        if _improved(value, self.best, self.mode):
            self.best, self.best_epoch = value, trainer.current_epoch + 1  # epochs count from 1
            if self.averager is not None and self.averager.active:
                self.state = self.averager.averaged_state()
            else:
                self.state = copy.deepcopy(module.state_dict())


class History(Callback):
    """One dict of logged metrics per epoch (train and dev), for reports and plots."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        row: dict[str, Any] = {"epoch": trainer.current_epoch + 1}  # epochs count from 1, as --average-from
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
