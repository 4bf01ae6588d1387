"""The training engine: one Lightning wrapper and one ``fit`` for every task."""

from lightning import seed_everything

from rnnlab.training.config import OPTIMIZERS, TrainConfig
from rnnlab.training.fit import FitResult, fit, make_loader, member_dir, seeded_network
from rnnlab.training.module import Evaluator, Objective, TrainingModule, batch_size_of

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
