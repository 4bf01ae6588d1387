"""Right-padded batches: checking lengths, validity masks, reversing each sequence within its length.

>>> import torch
>>> lengths = torch.tensor([3, 1])
>>> reverse_index(lengths, 4).tolist()  # padded steps stay where they are
[[2, 1, 0, 3], [0, 1, 2, 3]]
>>> valid_mask(lengths, 4).int().tolist()
[[1, 1, 1, 0], [1, 0, 0, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def check_lengths(lengths: Tensor | Sequence[int] | None, batch: int, time: int) -> Tensor | None:
    """Validate ``lengths`` (B,) against a (B, T, ...) batch; ``None`` when every length is T."""
    if lengths is None:
        return None
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():  # a traced graph (ONNX export) keeps the lengths
        return torch.as_tensor(lengths).long()
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"lengths must have shape (batch,) = ({batch},), received {tuple(lengths.shape)}; "
            "pass one length per sequence of the batch"
        )
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must be integers, received dtype {lengths.dtype}")
    lengths = lengths.long()
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > time:
        raise ValueError(
            f"lengths must lie in [1, T={time}], received values from {low} to {high}; "
            "drop empty sequences, or pad the batch to the longest sequence"
        )
    return None if low == time else lengths


def valid_mask(lengths: Tensor, time: int) -> Tensor:
    """(B,) lengths -> (B, T) bool, True on real steps."""
    steps = torch.arange(time, device=lengths.device)
    return steps[None, :] < lengths[:, None]


def reverse_index(lengths: Tensor, time: int) -> Tensor:
    """(B, T) index reversing each sequence's first ``length`` steps; an involution."""
    steps = torch.arange(time, device=lengths.device)[None, :]
    lengths = lengths[:, None]
    return torch.where(steps < lengths, lengths - 1 - steps, steps)


def reverse_within(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse (B, T, D) sequences in time, each within its own length (plain flip if None)."""
    if lengths is None:
        return x.flip(1)
    index = reverse_index(lengths.to(x.device), x.shape[1])  # (B, T)
    return x.gather(1, index[:, :, None].expand_as(x))


def last_valid(y: Tensor, lengths: Tensor | None) -> Tensor:
    """The output at each sequence's last real step: (B, T, H) -> (B, H)."""
    if lengths is None:
        return y[:, -1]
    rows = torch.arange(y.shape[0], device=y.device)
    return y[rows, lengths.to(y.device) - 1]
