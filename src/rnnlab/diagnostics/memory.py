"""Train SimpleRNN / LSTM / GRU on a long-memory task with one budget, and score them against the trivial baseline."""

from __future__ import annotations

import dataclasses
import math
import time

import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping
from torch import Tensor, nn
from torch.utils.data import DataLoader

from rnnlab.config import Config
from rnnlab.diagnostics.memory_tasks import TASKS, TaskBatches, baseline, make_batch
from rnnlab.errors import ConfigError
from rnnlab.io import register_model
from rnnlab.nn import GRU, LSTM, Dense, Recurrent, SimpleRNN
from rnnlab.training import Objective, TrainConfig, fit

CELLS: dict[str, str] = {"rnn": "SimpleRNN (tanh)", "lstm": "LSTM", "gru": "GRU"}


@dataclasses.dataclass(frozen=True)
class MemoryModelConfig(Config):
    """A recurrent layer read at the last step by one Dense layer."""

    kind = "MemoryModel"
    cell: str = "lstm"
    task: str = "adding"
    hidden_size: int = 64
    residual: bool = False  # SimpleRNN only: h_t = h_{t-1} + tanh(...)
    n_symbols: int = 8

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ConfigError(f"cell must be one of {list(CELLS)}, received {self.cell!r}")
        if self.task not in TASKS:
            raise ConfigError(f"task must be one of {list(TASKS)}, received {self.task!r}")
        if self.residual and self.cell != "rnn":
            raise ConfigError("residual=True is the SimpleRNN remedy; LSTM and GRU have their own paths")


@register_model
class MemoryModel(nn.Module):
    """(B, T, D) -> (B, 1) for the adding problem, (B, K) logits for recall."""

    config_class = MemoryModelConfig

    def __init__(self, config: MemoryModelConfig) -> None:
        super().__init__()
        self.config = config
        inputs = 2 if config.task == "adding" else config.n_symbols
        outputs = 1 if config.task == "adding" else config.n_symbols
        H = config.hidden_size
        if config.cell == "rnn":
            self.rnn: Recurrent = SimpleRNN(inputs, H, activation="tanh", residual=config.residual)
        else:
            self.rnn = (LSTM if config.cell == "lstm" else GRU)(inputs, H)
        self.head = Dense(H, outputs)

    @classmethod
    def from_config(cls, config: MemoryModelConfig) -> MemoryModel:
        return cls(config)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.rnn(x))


@dataclasses.dataclass(frozen=True)
class MemoryRunConfig(Config):
    """One training run: the budget is the same for every cell."""

    kind = "MemoryRun"
    length: int = 100
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-2
    gradient_clip: float | None = 1.0
    seed: int = 0
    steps_per_epoch: int = 100
    solved_mse: float = 1e-3  # stop early once the dev MSE is this low (adding); dev accuracy 1.0 (recall)
    test_size: int = 2000


def objective_for(task: str) -> Objective:
    if task == "adding":
        return Objective(loss=lambda m, b: F.mse_loss(m(b[0]), b[1]))

    def accuracy(m: nn.Module, b: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"accuracy": (m(b[0]).argmax(-1) == b[1]).float().mean()}

    return Objective(loss=lambda m, b: F.cross_entropy(m(b[0]), b[1]), metrics=accuracy)


def evaluate(model: nn.Module, task: str, length: int, n: int, seed: int) -> dict[str, float]:
    x, y = make_batch(task, n, length, torch.Generator().manual_seed(seed))
    model.eval()
    with torch.no_grad():
        out = model(x)
    if task == "adding":
        return {"mse": F.mse_loss(out, y).item()}
    return {"accuracy": (out.argmax(-1) == y).float().mean().item(), "cross_entropy": F.cross_entropy(out, y).item()}


def train_memory(
    model_config: MemoryModelConfig, run: MemoryRunConfig, *, progress: bool = False
) -> tuple[MemoryModel, dict]:
    """Train one model on its task; returns it with a result row (test score, baseline, steps, seconds)."""
    torch.manual_seed(run.seed)
    model = MemoryModel(model_config)
    task = model_config.task
    if run.steps < 1 or run.batch_size < 1 or run.steps_per_epoch < 1:
        raise ConfigError(f"steps, batch_size and steps_per_epoch must be at least 1, received {run.steps}, "
                          f"{run.batch_size}, {run.steps_per_epoch}")  # fmt: skip
    epochs = math.ceil(run.steps / run.steps_per_epoch)  # 150 steps: 2 epochs of 75 (it was 1 of 100)
    per_epoch = math.ceil(run.steps / epochs)  # the budget asked for, rounded up to equal epochs
    train = TaskBatches(task, run.length, batch_size=run.batch_size, n_batches=per_epoch, seed=run.seed)
    dev = TaskBatches(task, run.length, batch_size=256, n_batches=2, seed=run.seed + 10_000)
    stop = (
        EarlyStopping("val_loss", mode="min", stopping_threshold=run.solved_mse, patience=10**9)
        if task == "adding"
        else EarlyStopping("val_accuracy", mode="max", stopping_threshold=0.999, patience=10**9)
    )
    config = TrainConfig(
        max_epochs=epochs, lr=run.lr, gradient_clip=run.gradient_clip, patience=None, seed=run.seed,
        accelerator="cpu", devices=1,
    )  # fmt: skip
    start = time.perf_counter()
    result = fit(
        model, DataLoader(train, batch_size=None), DataLoader(dev, batch_size=None),
        objective=objective_for(task), config=config, progress=progress, callbacks=[stop],
    )  # fmt: skip
    seconds = time.perf_counter() - start
    test = evaluate(model, task, run.length, run.test_size, run.seed + 20_000)
    base = baseline(task, model_config.n_symbols)
    key = "mse" if task == "adding" else "accuracy"
    beats = test[key] < 0.9 * base[key] if task == "adding" else test[key] > 1.5 * base[key]
    row = {
        "task": task,
        "cell": model_config.cell + ("+residual" if model_config.residual else ""),
        "length": run.length,
        "hidden_size": model_config.hidden_size,
        "steps": result.epochs * per_epoch,
        "max_steps": epochs * per_epoch,
        "seconds": round(seconds, 1),
        f"test_{key}": test[key],
        f"baseline_{key}": base[key],
        "beats_baseline": bool(beats),
        "solved": bool(test["mse"] < 0.01) if task == "adding" else bool(test["accuracy"] > 0.99),
        "gradient_clip": run.gradient_clip,
    }
    return model, row
