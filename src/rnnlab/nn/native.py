"""Autograd for rnnlab's C++ GRU kernels: forward keeps the gates, backward runs through time in C++.

PyTorch's own CPU GRU has no fused kernel (oneDNN's is LSTM only), so its training step is autograd through a
dozen small operators per time step; here a step is one GEMM and one loop each way (``rnn_cpu.cpp``), and the
directions of a bidirectional layer run side by side, forward and backward.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.nn import kernels

PER_DIRECTION = 6  # x, w_ih, w_hh, b_ih, b_hh, h0
SAVED = 9  # x, w_ih, w_hh, h0, y, r, z, n, ghn


class GRUDirections(torch.autograd.Function):
    """``apply(n, *[x, w_ih, w_hh, b_ih, b_hh, h0] * n)`` -> the n outputs y (B, T, H): n independent GRU
    layer-directions (x (B, T, I), h0 (B, H)), PyTorch's reset-after equations, run in parallel."""

    @staticmethod
    def forward(ctx, n: int, *flat: Tensor):  # type: ignore[override]
        native = kernels.get()
        assert native is not None, "rnnlab's kernels are not built"
        jobs = [list(flat[d * PER_DIRECTION : (d + 1) * PER_DIRECTION]) for d in range(n)]
        outs = native.gru_forward_train_many([[j[0].contiguous(), j[1], j[2], j[3], j[4], j[5].contiguous()]
                                              for j in jobs])  # fmt: skip
        saved = []
        for j, (y, _h, r, z, n_gate, ghn) in zip(jobs, outs, strict=True):
            saved += [j[0].contiguous(), j[1], j[2], j[5].contiguous(), y, r, z, n_gate, ghn]
        ctx.save_for_backward(*saved)
        ctx.n = n
        return tuple(o[0] for o in outs)

    @staticmethod
    def backward(ctx, *dys: Tensor):  # type: ignore[override]
        native = kernels.get()
        saved = ctx.saved_tensors
        jobs = []
        for d, dy in enumerate(dys):
            x, w_ih, w_hh, h0, y, r, z, n_gate, ghn = saved[d * SAVED : (d + 1) * SAVED]
            jobs.append([dy.contiguous(), torch.zeros_like(h0), x, w_ih, w_hh, h0, y, r, z, n_gate, ghn])
        grads = native.gru_backward_many(jobs)  # each: dx, dw_ih, dw_hh, db_ih, db_hh, dh0
        return (None, *(g for per_direction in grads for g in per_direction))
