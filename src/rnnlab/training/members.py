"""Deep ensembles trained member by member: one loop for every task (Lakshminarayanan et al. 2017).

Member k is the single network of seed + k, trained alone on the same data; a ``max_time`` budget is shared,
each member getting an equal part of what its predecessors left. A network without ``members`` is an
ensemble of one, trained with the settings as given.

>>> import torch
>>> from rnnlab.training.config import TrainConfig
>>> nets = torch.nn.ModuleList([torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)])
>>> seen = []
>>> _ = fit_members(list(nets), TrainConfig(seed=3, max_time=100),
...                 lambda k, net, config: seen.append((k, config.seed, config.max_time)))
>>> seen
[(0, 3, 50.0), (1, 4, 100.0)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from rnnlab.training.config import TrainConfig


def members_of(net: nn.Module) -> list[nn.Module]:
    """The networks trained one by one: an ensemble's ``members``, or the network itself."""
    members = getattr(net, "members", None)
    return list(members) if isinstance(members, nn.ModuleList) else [net]


def fit_members(
    members: Sequence[nn.Module],
    config: TrainConfig,
    fit_one: Callable[[int, nn.Module, TrainConfig], Any],
    *,
    extra_seconds: Callable[[], float] = lambda: 0.0,
) -> list[Any]:
    """``fit_one(k, member, its settings)`` for each member in turn (seed + k, ``max_time`` shared); returns what
    each call returned (FitResults: their ``seconds`` count against the budget, with ``extra_seconds()``, e.g.
    a language model's pretraining, spent besides)."""
    results: list[Any] = []
    for k, member in enumerate(members):
        spent = sum(getattr(r, "seconds", 0.0) for r in results) + extra_seconds()
        results.append(fit_one(k, member, config.for_member(k, len(members), spent=spent)))
    return results
