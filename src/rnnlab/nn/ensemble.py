"""A deep ensemble as a wrapper: independently trained networks, their outputs combined (Lakshminarayanan et al. 2017).

The task networks know nothing of ensembles: a config with ``members = M > 1`` builds, through
:func:`build`, an :class:`Ensemble` of M single networks (member k: the network of seed + k when
built by :func:`rnnlab.training.seeded_network`), trained one after the other by
:func:`rnnlab.training.members.fit_members`. It saves as the task's own kind with ``members = M``
(keys ``members.k.*``), so a saved ensemble loads where a single network does.

>>> import torch
>>> ens = Ensemble([torch.nn.Linear(2, 3), torch.nn.Linear(2, 3)], combine="mean")
>>> x = torch.randn(4, 2)
>>> torch.allclose(ens(x), (ens.members[0](x) + ens.members[1](x)) / 2)
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

COMBINES: tuple[str, ...] = ("mean", "log_mean_softmax")


class Ensemble(nn.Module):
    """``members`` run on the same input; ``combine``: ``"mean"`` of their outputs (forecasts), or
    ``"log_mean_softmax"``: the log of their mean class probabilities (logits in, and a softmax of the result
    gives the mean probabilities back). ``config``: the task config the ensemble was built from (``members`` M);
    ``assets``: the vocabularies and labels a task saves beside the weights."""

    def __init__(self, members: Sequence[nn.Module], combine: str = "mean", config: Any = None) -> None:
        super().__init__()
        if combine not in COMBINES:
            raise ValueError(f"combine must be one of {list(COMBINES)}, received {combine!r}")
        self.members = nn.ModuleList(members)
        self.combine = combine
        self.config = config
        self.assets: dict[str, Any] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        outputs = [m(*args, **kwargs) for m in self.members]
        if self.combine == "mean":
            return torch.stack(outputs).mean(0)
        probabilities = torch.stack([o.softmax(-1) for o in outputs]).mean(0)  # (B, K)
        return probabilities.clamp_min(1e-30).log()

    def get_assets(self) -> dict[str, Any]:
        return dict(self.assets)

    def load_assets(self, assets: dict[str, Any]) -> None:
        self.assets = dict(assets)


def build(make: Callable[[Any], nn.Module], config: Any, combine: str) -> nn.Module:
    """``make(config)``, or for ``config.members > 1`` an :class:`Ensemble` of that many ``make``-built single
    networks (``members = 1`` each)."""
    members = getattr(config, "members", 1)
    if members <= 1:
        return make(config)
    single = dataclasses.replace(config, members=1)
    return Ensemble([make(single) for _ in range(members)], combine, config)
