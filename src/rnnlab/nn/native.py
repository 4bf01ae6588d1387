"""Autograd for rnnlab's C++ GRU and LSTM kernels: forward keeps the gates, backward runs through time in C++.

PyTorch's own CPU GRU has no fused kernel (oneDNN's is LSTM only), so its training step is autograd through a
dozen small operators per time step; here a step is one GEMM and one loop each way (``rnn_cpu.cpp``), and the
directions of a bidirectional layer run side by side, forward and backward.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.nn import kernels


class _Directions(torch.autograd.Function):
    """n independent layer-directions (x (B, T, I), h0 (B, H)[, c0]) of one cell, run in parallel."""

    per_direction: int  # inputs of one direction: x, w_ih, w_hh, b_ih, b_hh, h0[, c0]
    kernel: str  # the kernels' function running the training forward pass of every direction
    keep_inputs: tuple[int, ...]  # which inputs of a direction its backward pass needs ...
    keep_outputs: tuple[int, ...]  # ... and which outputs of the kernel

    @classmethod
    def _forward(cls, ctx, n: int, flat: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        native = kernels.get()
        assert native is not None, "rnnlab's kernels are not built"
        size = cls.per_direction
        jobs = [list(flat[d * size : (d + 1) * size]) for d in range(n)]
        for j in jobs:
            j[0] = j[0].contiguous()
            j[5:] = [s.contiguous() for s in j[5:]]
        outs = getattr(native, cls.kernel)(jobs)
        saved = []
        for j, out in zip(jobs, outs, strict=True):
            saved += [j[i] for i in cls.keep_inputs] + [out[i] for i in cls.keep_outputs]
        ctx.save_for_backward(*saved)
        return tuple(o[0] for o in outs)

    @classmethod
    def _saved(cls, ctx) -> list[tuple[Tensor, ...]]:
        """The saved tensors, one tuple per direction."""
        size, saved = len(cls.keep_inputs) + len(cls.keep_outputs), ctx.saved_tensors
        return [saved[d * size : (d + 1) * size] for d in range(len(saved) // size)]


class GRUDirections(_Directions):
    """``apply(n, *[x, w_ih, w_hh, b_ih, b_hh, h0] * n)`` -> the n outputs y (B, T, H), PyTorch's reset-after
    equations."""

    per_direction, kernel = 6, "gru_forward_train_many"
    keep_inputs, keep_outputs = (0, 1, 2, 5), (0, 2, 3, 4, 5)  # x, w_ih, w_hh, h0; y, r, z, n, ghn

    @staticmethod
    def forward(ctx, n: int, *flat: Tensor):  # type: ignore[override]
        return GRUDirections._forward(ctx, n, flat)

    @staticmethod
    def backward(ctx, *dys: Tensor):  # type: ignore[override]
        jobs = []
        for dy, (x, w_ih, w_hh, h0, y, r, z, n_gate, ghn) in zip(dys, GRUDirections._saved(ctx), strict=True):
            jobs.append([dy.contiguous(), torch.zeros_like(h0), x, w_ih, w_hh, h0, y, r, z, n_gate, ghn])
        grads = kernels.get().gru_backward_many(jobs)  # each: dx, dw_ih, dw_hh, db_ih, db_hh, dh0
        return (None, *(g for per_direction in grads for g in per_direction))


class LSTMDirections(_Directions):
    """``apply(n, *[x, w_ih, w_hh, b_ih, b_hh, h0, c0] * n)`` -> the n outputs y (B, T, H)."""

    per_direction, kernel = 7, "lstm_forward_train_many"
    keep_inputs, keep_outputs = (0, 1, 2, 5, 6), (0, 3, 4)  # x, w_ih, w_hh, h0, c0; y, gates, c

    @staticmethod
    def forward(ctx, n: int, *flat: Tensor):  # type: ignore[override]
        return LSTMDirections._forward(ctx, n, flat)

    @staticmethod
    def backward(ctx, *dys: Tensor):  # type: ignore[override]
        jobs = [[dy.contiguous(), *saved] for dy, saved in zip(dys, LSTMDirections._saved(ctx), strict=True)]
        grads = kernels.get().lstm_backward_many(jobs)  # each: dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0
        return (None, *(g for per_direction in grads for g in per_direction))
