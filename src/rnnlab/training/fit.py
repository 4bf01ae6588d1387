"""``fit``: one training loop for every task, on Lightning (early stopping, best checkpoint, resume, DDP)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, RichProgressBar
from torch import nn
from torch.utils.data import DataLoader, Dataset

from rnnlab import runtime
from rnnlab.errors import ConfigError
from rnnlab.training.callbacks import AveragedWeights, BestWeights, History, SeededSampler
from rnnlab.training.checkpoints import SafetensorsCheckpointIO, check_checkpoint, find_checkpoint, read_checkpoint
from rnnlab.training.config import TrainConfig
from rnnlab.training.module import Objective, TrainingModule

CHECKPOINT_DIR = "checkpoints"
_NOISY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning")


@dataclasses.dataclass
class FitResult:
    """What a training run did: best dev score and epoch, epochs run, per-epoch history (epochs count from 1:
    ``best_epoch`` 3 is the third epoch, ``history[i]["epoch"]`` is ``i + 1``, as ``average_from``)."""

    monitor: str
    best_score: float | None
    best_epoch: int | None
    epochs: int
    stopped_early: bool
    seconds: float
    history: list[dict[str, float]]
    best_checkpoint: str | None = None


def make_loader(data: Dataset | DataLoader, config: TrainConfig, *, train: bool, collate_fn=None):
    """A DataLoader for ``data`` (returned as is if it already is one); training order is seeded."""
    if isinstance(data, DataLoader):
        return data
    sampler = SeededSampler(len(data), config.seed) if train else None  # type: ignore[arg-type]
    return DataLoader(data, batch_size=config.batch_size, sampler=sampler, collate_fn=collate_fn)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Lightning's banners ("GPU available: ...") and tips; the progress bar stays."""
    saved = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
        warnings.filterwarnings("ignore", ".*`training_step` returned `None`.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*is deprecated.*")
        warnings.filterwarnings("ignore", ".*but have no `val_dataloader`.*")
        warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")
        try:
            yield
        finally:
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)


def fit(
    model: nn.Module,
    train_data: Dataset | DataLoader,
    val_data: Dataset | DataLoader | None = None,
    *,
    objective: Objective,
    config: TrainConfig | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    callbacks: Sequence[Callback] = (),
) -> FitResult:
    """Train ``model`` in place and leave it holding the best weights seen on ``val_data``.

    Files are written only under ``out_dir``: the checkpoints ``checkpoints/best.ckpt/`` and ``last.ckpt/``, each a
    folder of ``state.safetensors`` and ``state.json`` (no pickle; :mod:`rnnlab.training.checkpoints`);
    ``resume=True`` continues from ``out_dir/checkpoints/last.ckpt/`` after an interruption.
    ``progress=True`` shows a rich progress bar. The same ``config.seed`` and the same
    initial weights give the same trained weights on CPU. With ``config.average_from`` the weights
    are averaged from that epoch on (SWA), and the average is what is validated and kept.
    """
    config = config or TrainConfig()
    monitor = config.monitor or (objective.monitor if val_data is not None else "train_loss")
    mode = config.mode or objective.mode
    if val_data is None and config.monitor is None:
        mode = "min"
    L.seed_everything(config.seed, workers=True, verbose=False)
    train_loader = make_loader(train_data, config, train=True)
    val_loader = None if val_data is None else make_loader(val_data, config, train=False)

    history = History()
    cbs: list[Callback] = [history, *callbacks]
    averager = None if config.average_from is None else AveragedWeights(config.average_from - 1)
    if averager is not None:
        cbs.append(averager)
    stopper = None
    if config.patience is not None and val_data is not None:
        stopper = EarlyStopping(monitor=monitor, mode=mode, patience=config.patience)
        cbs.append(stopper)
    checkpoint: ModelCheckpoint | None = None
    keeper: BestWeights | None = None
    if out_dir is not None:
        checkpoint = ModelCheckpoint(
            dirpath=Path(out_dir) / CHECKPOINT_DIR, filename="best", monitor=monitor, mode=mode,
            save_top_k=1, save_last=True, enable_version_counter=False,
        )  # fmt: skip
        cbs.append(checkpoint)
    else:
        keeper = BestWeights(monitor, mode, averager)
        cbs.append(keeper)
    if progress:
        cbs.append(_ProgressBar())

    with _quiet(), _lightning_errors(config, monitor):
        trainer = _trainer(config, cbs, out_dir, checkpoint is not None, progress)
    model.train()  # Lightning keeps each module's mode when training starts; an earlier fit left it in eval
    module = TrainingModule(model, objective, config)
    ckpt_path = None
    if resume:
        if out_dir is None:
            raise ValueError("resume=True needs the out_dir of the interrupted run")
        last = find_checkpoint(Path(out_dir) / CHECKPOINT_DIR / "last.ckpt")  # a pickle or a torn one: refused
        ckpt_path = None if last is None else str(last)
        epoch = None if last is None else check_checkpoint(last)["checkpoint"].get("epoch")
        if isinstance(epoch, int) and epoch + 1 > config.max_epochs:  # Lightning would train 0 epochs, or refuse
            raise ConfigError(f"--resume: the interrupted run's last checkpoint is after epoch {epoch + 1}, past "
                              f"max_epochs (--max-epochs) = {config.max_epochs}; give a larger --max-epochs to "
                              "continue it")  # fmt: skip
    start = time.perf_counter()
    try:
        with _quiet(), _lightning_errors(config, monitor):
            trainer.fit(module, train_loader, val_loader, ckpt_path=ckpt_path, weights_only=True)
    except SystemExit:  # Lightning answers Ctrl-C with exit(1) after saving: an interruption, not a failure
        if runtime.TERMINATED:  # SIGTERM (rnnlab.cli.main): the checkpoints are kept, the status is 143
            raise SystemExit(143) from None
        if trainer.interrupted:
            raise KeyboardInterrupt from None
        raise
    seconds = time.perf_counter() - start
    if trainer.global_rank != 0 and runtime.COMMAND_LINE:  # the command's other processes: rank 0 saves, reports
        raise SystemExit(0)

    best_score, best_epoch, best_path = _restore_best(module, checkpoint, keeper)
    model.eval()
    broken = sum(int((~torch.isfinite(p)).sum()) for p in model.parameters())
    if broken:  # the loss went to NaN/inf: no model worth saving (every prediction would be NaN)
        raise Diverged(f"training diverged: {broken} weight(s) became NaN or infinite (lr {config.lr:g}, "
                       f"optimizer {config.optimizer}); lower --lr, or keep --gradient-clip on")  # fmt: skip
    return FitResult(
        monitor=monitor,
        best_score=best_score,
        best_epoch=best_epoch,
        epochs=trainer.current_epoch,
        stopped_early=bool(stopper is not None and stopper.stopped_epoch > 0),
        seconds=seconds,
        history=history.epochs,
        best_checkpoint=best_path,
    )


def seeded_network(make: Callable[[Any], nn.Module], config: Any, seed: int) -> nn.Module:
    """``make(config)`` built after ``torch.manual_seed(seed)``; for an ensemble (``config.members > 1``) an
    :class:`~rnnlab.nn.ensemble.Ensemble` whose member k is the network ``make`` builds alone with seed + k
    (combined as ``make.ensemble_combine`` says, the mean by default)."""
    from rnnlab.nn.ensemble import Ensemble

    members = getattr(config, "members", 1)
    if members <= 1:
        torch.manual_seed(seed)
        return make(config)
    single = dataclasses.replace(config, members=1)
    nets = []
    for k in range(members):
        torch.manual_seed(seed + k)
        nets.append(make(single))
    return Ensemble(nets, getattr(make, "ensemble_combine", "mean"), config)


def member_dir(out_dir: str | Path | None, k: int, members: int) -> Path | None:
    """Where member ``k`` of an ensemble of ``members`` keeps its checkpoints: ``out_dir`` itself
    for a single network, ``out_dir/member{k}`` otherwise (None: no files)."""
    if out_dir is None:
        return None
    return Path(out_dir) if members == 1 else Path(out_dir) / f"member{k}"


def _restore_best(
    module: TrainingModule, checkpoint: ModelCheckpoint | None, keeper: BestWeights | None
) -> tuple[float | None, int | None, str | None]:
    if keeper is not None:
        if keeper.state is not None:
            module.load_state_dict(keeper.state)
        return keeper.best, keeper.best_epoch, None
    assert checkpoint is not None
    path = checkpoint.best_model_path
    if not path or not Path(path).exists():
        return None, None, None
    if not Path(path).resolve().is_relative_to(Path(checkpoint.dirpath or "").resolve()):  # named by a resumed file
        raise ValueError(f"the best checkpoint {path} lies outside this run's {checkpoint.dirpath}; "
                         "a run reads only its own checkpoints: delete the run's folder to start again")  # fmt: skip
    state = read_checkpoint(path)
    module.load_state_dict(state["state_dict"])
    score = checkpoint.best_model_score
    epoch = state.get("epoch")  # Lightning's 0-based count; rnnlab's epochs count from 1
    return (None if score is None else float(score)), None if epoch is None else int(epoch) + 1, path


class _ProgressBar(RichProgressBar):
    """Lightning's rich bar, with epochs counted from 1 as everywhere in rnnlab ("Epoch 2/2", not "Epoch 1/1")."""

    def _get_train_description(self, current_epoch: int) -> str:
        total = self.trainer.max_epochs
        text = f"Epoch {current_epoch + 1}" + (f"/{total}" if total is not None and total > 0 else "")
        return f"{text:{len(self.validation_description)}}"  # as wide as "Validation": no flicker


class Diverged(ConfigError):
    """Training left non-finite weights: its checkpoints are not worth resuming from."""

    discard_checkpoints = True


@contextlib.contextmanager
def _lightning_errors(config: TrainConfig, monitor: str) -> Iterator[None]:
    """Lightning's refusals of the training settings as one-line ConfigErrors naming rnnlab's option, not its
    ``Trainer(...)`` arguments: devices, accelerators, a monitored metric the task does not log (a resumed run
    past --max-epochs is refused before Lightning sees it, in :func:`fit`)."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        yield
    except MisconfigurationException as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "gpu" in text.lower() or "cuda" in text.lower() or "mps" in text.lower():
            raise ConfigError(f"accelerator (--accelerator) {config.accelerator!r} is not available here ({text}); "
                              "use cpu or auto") from None  # fmt: skip
        raise ConfigError(f"the training settings were refused: {text} (options --accelerator "
                          f"{config.accelerator!r}, --devices {config.devices!r}, --num-nodes {config.num_nodes!r}, "
                          f"--strategy {config.strategy!r}, --precision {config.precision!r})") from None  # fmt: skip
    except RuntimeError as exc:
        if "conditioned on metric" not in str(exc):
            raise
        logged = re.findall(r"`([^`]+)`", str(exc).split("any of the following:")[-1])
        names = ", ".join(logged) if "any of the following:" in str(exc) else "val_loss and the task's val_ metrics"
        raise ConfigError(f"monitor (--monitor) {monitor!r} is not a metric this task logs; choose one of {names}"
                          ) from None  # fmt: skip


def _trainer(
    config: TrainConfig, callbacks: list[Callback], out_dir: str | Path | None,
    checkpointing: bool, progress: bool,
) -> L.Trainer:  # fmt: skip
    return L.Trainer(
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=config.strategy,
        precision=config.precision,  # type: ignore[arg-type]
        max_epochs=config.max_epochs,
        max_time=None if config.max_time is None else {"seconds": int(max(1, config.max_time))},
        gradient_clip_val=config.gradient_clip,
        deterministic=config.deterministic,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=checkpointing,
        enable_progress_bar=progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=str(out_dir) if out_dir is not None else None,
        log_every_n_steps=1,
        plugins=[SafetensorsCheckpointIO()] if checkpointing else None,
    )
