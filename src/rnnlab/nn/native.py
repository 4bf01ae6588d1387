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

    @classmethod
    def _jobs(cls, n: int, flat: tuple[Tensor, ...]) -> list[list[Tensor]]:
        size = cls.per_direction
        jobs = [list(flat[d * size : (d + 1) * size]) for d in range(n)]
        for j in jobs:
            j[0] = j[0].contiguous()
            j[5:] = [s.contiguous() for s in j[5:]]
        return jobs


class GRUDirections(_Directions):
    """``apply(n, *[x, w_ih, w_hh, b_ih, b_hh, h0] * n)`` -> the n outputs y (B, T, H), PyTorch's reset-after
    equations."""

    per_direction = 6
    saved = 9  # x, w_ih, w_hh, h0, y, r, z, n, ghn

    @staticmethod
    def forward(ctx, n: int, *flat: Tensor):  # type: ignore[override]
        native = kernels.get()
        assert native is not None, "rnnlab's kernels are not built"
        jobs = GRUDirections._jobs(n, flat)
        outs = native.gru_forward_train_many(jobs)
        saved = []
        for j, (y, _h, r, z, n_gate, ghn) in zip(jobs, outs, strict=True):
            saved += [j[0], j[1], j[2], j[5], y, r, z, n_gate, ghn]
        ctx.save_for_backward(*saved)
        return tuple(o[0] for o in outs)

    @staticmethod
    def backward(ctx, *dys: Tensor):  # type: ignore[override]
        saved, size = ctx.saved_tensors, GRUDirections.saved
        jobs = []
        for d, dy in enumerate(dys):
            x, w_ih, w_hh, h0, y, r, z, n_gate, ghn = saved[d * size : (d + 1) * size]
            jobs.append([dy.contiguous(), torch.zeros_like(h0), x, w_ih, w_hh, h0, y, r, z, n_gate, ghn])
        grads = kernels.get().gru_backward_many(jobs)  # each: dx, dw_ih, dw_hh, db_ih, db_hh, dh0
        return (None, *(g for per_direction in grads for g in per_direction))


class LSTMDirections(_Directions):
    """``apply(n, *[x, w_ih, w_hh, b_ih, b_hh, h0, c0] * n)`` -> the n outputs y (B, T, H)."""

    per_direction = 7
    saved = 8  # x, w_ih, w_hh, h0, c0, y, gates, c

    @staticmethod
    def forward(ctx, n: int, *flat: Tensor):  # type: ignore[override]
        native = kernels.get()
        assert native is not None, "rnnlab's kernels are not built"
        jobs = LSTMDirections._jobs(n, flat)
        outs = native.lstm_forward_train_many(jobs)
        saved = []
        for j, (y, _h, _c, gates, cells) in zip(jobs, outs, strict=True):
            saved += [j[0], j[1], j[2], j[5], j[6], y, gates, cells]
        ctx.save_for_backward(*saved)
        return tuple(o[0] for o in outs)

    @staticmethod
    def backward(ctx, *dys: Tensor):  # type: ignore[override]
        saved, size = ctx.saved_tensors, LSTMDirections.saved
        jobs = [[dy.contiguous(), *saved[d * size : (d + 1) * size]] for d, dy in enumerate(dys)]
        grads = kernels.get().lstm_backward_many(jobs)  # each: dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0
        return (None, *(g for per_direction in grads for g in per_direction))
