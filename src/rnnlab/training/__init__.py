"""The training engine: one Lightning wrapper and one ``fit`` for every task.

The names are imported on first use (PEP 562): ``rnnlab.training.config`` (TrainConfig, no PyTorch) is read by
the CLI's options without importing Lightning, so ``rnnlab --help`` stays fast."""

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING

from rnnlab.training.config import OPTIMIZERS, TrainConfig

if TYPE_CHECKING:
    from lightning import seed_everything

    from rnnlab.training.fit import FitResult, fit, make_loader, member_dir, seeded_network
    from rnnlab.training.module import Evaluator, Objective, TrainingModule, batch_size_of

_LAZY = {
    "seed_everything": "lightning",
    **dict.fromkeys(("FitResult", "fit", "make_loader", "member_dir", "seeded_network"), "rnnlab.training.fit"),
    **dict.fromkeys(("Evaluator", "Objective", "TrainingModule", "batch_size_of"), "rnnlab.training.module"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'rnnlab.training' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``rnnlab.training.fit`` is the function, as it was when this package imported it eagerly: importing the
    submodule ``rnnlab.training.fit`` (which binds its name on the package) leaves it so."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "OPTIMIZERS",
    "Evaluator",
    "FitResult",
    "Objective",
    "TrainConfig",
    "TrainingModule",
    "batch_size_of",
    "fit",
    "make_loader",
    "member_dir",
    "seed_everything",
    "seeded_network",
]
