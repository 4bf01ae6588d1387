"""The one Lightning wrapper: any plain ``nn.Module`` plus an :class:`Objective` (loss and metrics) from its task."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import lightning as L
import torch
from torch import Tensor, nn

from rnnlab.training.config import TrainConfig


class Evaluator(Protocol):
    """Corpus-level metrics (e.g. span F1) accumulated over the dev set."""

    def update(self, model: nn.Module, batch: Any) -> None: ...

    def compute(self) -> Mapping[str, float]: ...


@dataclasses.dataclass
class Objective:
    """What a task gives the training engine.

    ``loss(model, batch)`` -> scalar tensor; ``metrics(model, batch)`` -> per-batch values
    averaged over the dev set (weighted by batch size); ``evaluator()`` -> a fresh
    :class:`Evaluator` for metrics that do not average over batches. ``monitor`` names the
    dev metric for early stopping and best-checkpoint keeping ("val_loss", "val_<metric>").
    """

    loss: Callable[[nn.Module, Any], Tensor]
    metrics: Callable[[nn.Module, Any], Mapping[str, Tensor | float]] | None = None
    evaluator: Callable[[], Evaluator] | None = None
    monitor: str = "val_loss"
    mode: str = "min"


def batch_size_of(batch: Any) -> int:
    """Rows in a batch: ``batch.batch_size``, or the first dimension of its first tensor."""
    if hasattr(batch, "batch_size"):
        return int(batch.batch_size)
    if isinstance(batch, Tensor):
        return int(batch.shape[0])
    if isinstance(batch, Mapping):
        return batch_size_of(next(iter(batch.values())))
    if isinstance(batch, list | tuple) and batch:
        return batch_size_of(batch[0])
    if dataclasses.is_dataclass(batch):
        return batch_size_of(getattr(batch, dataclasses.fields(batch)[0].name))
    raise TypeError(f"cannot tell the batch size of a {type(batch).__name__}")


class TrainingModule(L.LightningModule):
    """Trains ``model`` on ``objective`` with the optimiser of ``config``."""

    def __init__(self, model: nn.Module, objective: Objective, config: TrainConfig) -> None:
        super().__init__()
        self.model = model
        self.objective = objective
        self.config = config
        self._evaluator: Evaluator | None = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        loss = self.objective.loss(self.model, batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=batch_size_of(batch), sync_dist=True)  # fmt: skip
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        n = batch_size_of(batch)
        loss = self.objective.loss(self.model, batch)
        self.log("val_loss", loss, prog_bar=True, batch_size=n, sync_dist=True)
        if self.objective.metrics is not None:
            for name, value in self.objective.metrics(self.model, batch).items():
                self.log(f"val_{name}", value, prog_bar=True, batch_size=n, sync_dist=True)
        if self._evaluator is not None:
            self._evaluator.update(self.model, batch)

    def on_validation_epoch_start(self) -> None:
        self._evaluator = self.objective.evaluator() if self.objective.evaluator else None

    def on_validation_epoch_end(self) -> None:
        if self._evaluator is not None:
            for name, value in self._evaluator.compute().items():
                self.log(f"val_{name}", float(value), prog_bar=True, sync_dist=True)
            self._evaluator = None

    def configure_optimizers(self) -> Any:
        c = self.config
        params = self.model.parameters()
        optimizer: torch.optim.Optimizer
        if c.optimizer == "adam":
            optimizer = torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
        elif c.optimizer == "adamw":
            optimizer = torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
        elif c.optimizer == "rmsprop":
            optimizer = torch.optim.RMSprop(params, lr=c.lr, weight_decay=c.weight_decay)
        else:
            optimizer = torch.optim.SGD(params, lr=c.lr, momentum=0.9, weight_decay=c.weight_decay)
        if not c.lr_decay:
            return optimizer
        # lr_e = lr / (1 + decay · e) after epoch e, the schedule of Lample et al. 2016 / NCRF++
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0 / (1.0 + c.lr_decay * epoch))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "epoch"}}
