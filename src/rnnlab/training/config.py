"""TrainConfig: everything about a training run, and nothing about the network (minGPT's split)."""

from __future__ import annotations

import dataclasses
import math

from rnnlab.config import Config, doc
from rnnlab.errors import ConfigError

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd", "rmsprop")
PRECISIONS: tuple[str, ...] = ("32-true", "bf16-mixed", "16-mixed", "bf16-true", "64-true")  # Lightning's names


@dataclasses.dataclass(frozen=True)
class TrainConfig(Config):
    """How to train: optimiser, budget, early stopping, clipping, seed and devices.

    >>> TrainConfig(lr=0.01, max_epochs=3).max_epochs
    3
    >>> TrainConfig(optimizer="adagrad")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: optimizer must be one of ['adam', 'adamw', 'sgd', 'rmsprop'], received 'adagrad'
    """

    kind = "train"
    max_epochs: int = doc(20, "Epochs at most.")
    batch_size: int = doc(32, "Examples per batch (texts and sentences are bucketed by length).")
    lr: float = doc(1e-3, "Learning rate.")
    optimizer: str = doc("adam", "The optimiser.", choices=OPTIMIZERS)
    weight_decay: float = doc(0.0, "L2 weight decay (decoupled with adamw).")
    lr_decay: float = doc(0.0, "Learning rate lr / (1 + lr_decay · epoch); 0 keeps it constant.")
    average_from: int | None = doc(
        None,
        "Stochastic weight averaging: from this epoch on (1-based), the mean of the weights after every step is "
        "what is validated and kept (e.g. 3); none: off.",
    )
    gradient_clip: float | None = doc(1.0, "Clip the global gradient norm to this value; none (or 0): no clipping.")
    patience: int | None = doc(5, "Epochs without dev improvement before stopping; none: never stop early.")
    monitor: str | None = doc(None, "The dev metric that selects the epoch kept; none: the task's own.")
    mode: str | None = doc(
        None, "Whether the monitored metric is better smaller (min) or larger (max); none: the task's.",
        choices=("min", "max"),
    )  # fmt: skip
    max_time: float | None = doc(None, "Training seconds at most; none: no limit.")
    seed: int = doc(0, "Seed of the weights, the batches and the dropout.")
    deterministic: bool = doc(True, "Deterministic kernels (same seed, same model).")
    accelerator: str = doc("auto", "cpu, gpu or auto.")
    devices: int | str = doc("auto", "Devices to train on: a number, or auto.")
    num_nodes: int = doc(1, "Machines to train on (with a ddp strategy).")
    strategy: str = doc("auto", "Lightning's distribution strategy: auto, ddp, ...")
    precision: str = doc(
        "32-true",
        "Floating-point precision: bf16-mixed is bfloat16 autocast (faster on CPUs with AVX-512 BF16 or AMX; "
        "benchmarks/speed.py).",
        choices=PRECISIONS,
    )

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {list(PRECISIONS)}, received {self.precision!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {list(OPTIMIZERS)}, received {self.optimizer!r}")
        for name in ("max_epochs", "batch_size", "num_nodes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, received {value!r}")
        if not (math.isfinite(self.lr_decay) and self.lr_decay >= 0):
            raise ConfigError(f"lr_decay must be >= 0 and finite (--lr-decay), received {self.lr_decay!r}")
        if self.average_from is not None and (not isinstance(self.average_from, int) or self.average_from < 1):
            raise ConfigError(f"average_from must be an epoch number >= 1 or None, received {self.average_from!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr (--lr) must be a finite positive number (e.g. 1e-3), received {self.lr!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(
                f"weight_decay (--weight-decay) must be a finite number >= 0, received {self.weight_decay!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed (--seed) must be a whole number from 0 to {2**32 - 1}, received {self.seed!r}")
        if isinstance(self.devices, int) and not isinstance(self.devices, bool) and self.devices < 1:
            raise ConfigError(f"devices (--devices) must be 'auto' or a positive number, received {self.devices!r}")
        if self.gradient_clip is not None and self.gradient_clip <= 0:
            raise ConfigError(f"gradient_clip must be positive or None, received {self.gradient_clip!r}")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be >= 1 or None, received {self.patience!r}")
        if self.mode not in (None, "min", "max"):
            raise ConfigError(f"mode must be 'min' or 'max', received {self.mode!r}")
        if self.max_time is not None and self.max_time <= 0:
            raise ConfigError(f"max_time must be positive seconds or None, received {self.max_time!r}")

    def for_member(self, k: int, members: int, spent: float = 0.0) -> TrainConfig:
        """The settings of member ``k`` of an ensemble of ``members`` trained one after the other:
        seed + k, and an equal share of what is left of ``max_time`` after ``spent`` seconds.

        >>> TrainConfig(seed=3, max_time=90).for_member(1, 3, spent=40).seed
        4
        >>> TrainConfig(seed=3, max_time=90).for_member(1, 3, spent=40).max_time
        25.0
        """
        if members == 1:
            return self
        budget = None if self.max_time is None else max(1.0, (self.max_time - spent) / (members - k))
        return dataclasses.replace(self, seed=self.seed + k, max_time=budget)
