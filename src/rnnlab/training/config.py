"""TrainConfig: everything about a training run, and nothing about the network (minGPT's split)."""

from __future__ import annotations

import dataclasses

from rnnlab.config import Config
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
    max_epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_decay: float = 0.0  # lr / (1 + lr_decay · epoch); 0: constant learning rate
    average_from: int | None = None  # stochastic weight averaging from this epoch (1-based) on; None: off
    gradient_clip: float | None = 1.0  # max global gradient norm; None: no clipping
    patience: int | None = 5  # epochs without improvement before stopping; None: never stop early
    monitor: str | None = None  # None: the task's own dev metric
    mode: str | None = None  # "min" or "max"; None: the task's
    max_time: float | None = None  # seconds of training at most; None: no limit
    seed: int = 0
    deterministic: bool = True
    accelerator: str = "auto"  # "cpu", "gpu", "auto", ...
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"  # "ddp" across processes/machines
    precision: str = "32-true"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {list(PRECISIONS)}, received {self.precision!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {list(OPTIMIZERS)}, received {self.optimizer!r}")
        for name in ("max_epochs", "batch_size", "num_nodes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, received {value!r}")
        if self.lr_decay < 0:
            raise ConfigError(f"lr_decay must be >= 0, received {self.lr_decay!r}")
        if self.average_from is not None and (not isinstance(self.average_from, int) or self.average_from < 1):
            raise ConfigError(f"average_from must be an epoch number >= 1 or None, received {self.average_from!r}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, received {self.lr!r}")
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
