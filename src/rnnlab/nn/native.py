"""Autograd for rnnlab's C++ GRU kernels: forward keeps the gates, backward runs through time in C++.

PyTorch's own CPU GRU has no fused kernel (oneDNN's is LSTM only), so its training step is autograd through a
dozen small operators per time step; here a step is one GEMM and one loop each way (``rnn_cpu.cpp``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.nn import kernels


class GRUFunction(torch.autograd.Function):
    """(x (B, T, I), w_ih, w_hh, b_ih, b_hh, h0 (B, H)) -> (y (B, T, H), h_T (B, H)), PyTorch's GRU equations."""

    @staticmethod
    def forward(ctx, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, h0: Tensor):  # type: ignore[override]
        native = kernels.get()
        assert native is not None, "rnnlab's kernels are not built"
        y, h_t, r, z, n, ghn = native.gru_forward_train(x.contiguous(), w_ih, w_hh, b_ih, b_hh, h0.contiguous())
        ctx.save_for_backward(x, w_ih, w_hh, h0, y, r, z, n, ghn)
        return y, h_t

    @staticmethod
    def backward(ctx, dy: Tensor, dh_t: Tensor):  # type: ignore[override]
        x, w_ih, w_hh, h0, y, r, z, n, ghn = ctx.saved_tensors
        native = kernels.get()
        dx, dw_ih, dw_hh, db_ih, db_hh, dh0 = native.gru_backward(
            dy.contiguous(), dh_t.contiguous(), x.contiguous(), w_ih, w_hh, h0.contiguous(), y, r, z, n, ghn
        )
        return dx, dw_ih, dw_hh, db_ih, db_hh, dh0
