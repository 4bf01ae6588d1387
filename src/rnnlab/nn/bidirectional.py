"""How the forward and backward directions of a bidirectional layer merge (Keras' ``Bidirectional``).

>>> import torch
>>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])
>>> [merge(a, b, m).tolist() for m in MERGE_MODES]
[[[1.0, 2.0, 3.0, 4.0]], [[4.0, 6.0]], [[3.0, 8.0]], [[2.0, 3.0]]]
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

MergeMode = Literal["concat", "sum", "mul", "ave"]
MERGE_MODES: tuple[str, ...] = ("concat", "sum", "mul", "ave")


def merge(forward: Tensor, backward: Tensor, mode: str) -> Tensor:
    """Merge two (..., H) direction outputs into (..., 2H) for concat, else (..., H)."""
    if mode == "concat":
        return torch.cat([forward, backward], dim=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    raise ValueError(f"merge_mode must be one of {list(MERGE_MODES)}, received {mode!r}")


def merged_size(hidden_size: int, bidirectional: bool, mode: str) -> int:
    return 2 * hidden_size if bidirectional and mode == "concat" else hidden_size
