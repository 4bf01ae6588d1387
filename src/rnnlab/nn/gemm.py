"""The equation path's matrix products, on oneDNN's matmul where PyTorch can reach it.

On a CPU ``torch.addmm`` calls MKL's sgemm, which on some CPUs (AMD EPYC here) runs the
recurrent step's small products at half the speed of oneDNN, the library behind PyTorch's
fused LSTM: (64×256)·(256×1024) at 185 vs 370 GFLOP/s measured. For float32, PyTorch exposes
oneDNN's matmul only as ``torch.ops.mkldnn._linear_pointwise`` (the op its Inductor back end
emits on CPU); :func:`linear` wraps it in an autograd Function whose weight gradient gᵀ·x
goes to rnnlab's C++ kernels when they are built (oneDNN reads the transposed operands in
place, which the op above cannot) and to ``torch.mm`` otherwise. It falls back to
``torch.addmm`` wherever the op does not apply: fewer than 16 rows, other devices or dtypes,
autocast, ``torch.func`` transforms, a PyTorch built without it, or ``RNNLAB_ONEDNN=0`` in the
environment. Both give the same numbers to float32 rounding (tested). Measured: an LSTM
training step on the equation path at (64, 100, 128, 256) went from 1.55–1.88× to 1.12–1.25×
the fused oneDNN step (``benchmarks/README.md``).

>>> import torch
>>> x, w, b = torch.ones(2, 3), torch.full((4, 3), 0.5), torch.zeros(4)
>>> linear(x, w, b, add=torch.ones(2, 4))[0].tolist()  # x·Wᵀ + b + add
[2.5, 2.5, 2.5, 2.5]
"""

from __future__ import annotations

import os

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnlab.nn import kernels


def _op():
    if os.environ.get("RNNLAB_ONEDNN", "1") == "0" or not torch.backends.mkldnn.is_available():
        return None
    try:
        op = torch.ops.mkldnn._linear_pointwise.default
        op(torch.ones(16, 16), torch.ones(16, 16), None, "none", [], "")  # some CPUs refuse it (no AVX-512)
        return op
    except (AttributeError, RuntimeError):  # a build without the op, or a CPU it does not run on
        return None


_LINEAR = _op()
MIN_ROWS = 16  # below, a single row or a few: oneDNN's per-call cost (~15 µs) outweighs its speed
_wrapped = getattr(getattr(torch._C, "_functorch", None), "is_functorch_wrapped_tensor", lambda t: False)


def onednn_applies(x: Tensor) -> bool:
    """Whether :func:`linear` runs ``x`` on oneDNN (else on ``torch.addmm``)."""
    return (
        _LINEAR is not None
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and x.dim() == 2
        and x.shape[0] >= MIN_ROWS
        and not torch.is_autocast_enabled("cpu")
        and not _wrapped(x)
    )


def _matmul_t(a: Tensor, b: Tensor) -> Tensor:
    """a·bᵀ on oneDNN; ``b`` (N, K) contiguous."""
    return _LINEAR(a, b, None, "none", [], "")


def _matmul_tn(g: Tensor, x: Tensor) -> Tensor:
    """gᵀ·x, the weight gradient. The op above needs gᵀ and xᵀ copied into memory first (for a recurrent
    step, copies as costly as the product); rnnlab's C++ kernels, when built, hand the transposed views to
    oneDNN as they are; else MKL, which also reads them in place."""
    native = kernels.get()
    return native.matmul(g.t(), x) if native is not None else torch.mm(g.t(), x)


class _OneDNNLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, add: Tensor | None, weight_t: Tensor):
        ctx.save_for_backward(x, weight_t)
        ctx.has_bias, ctx.has_add = bias is not None, add is not None
        y = _LINEAR(x, weight, bias, "none", [], "")
        return y if add is None else y.add_(add)

    @staticmethod
    @once_differentiable
    def backward(ctx, g: Tensor):
        x, weight_t = ctx.saved_tensors
        need_x, need_w, need_b, need_add, _ = ctx.needs_input_grad
        g = g.contiguous()
        gx = _matmul_t(g, weight_t) if need_x else None  # g·W
        gw = _matmul_tn(g, x) if need_w else None
        gb = g.sum(0) if need_b and ctx.has_bias else None
        gadd = g if need_add and ctx.has_add else None
        return gx, gw, gb, gadd, None


def linear(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    *,
    add: Tensor | None = None,
    weight_t: Tensor | None = None,
) -> Tensor:
    """``x·Wᵀ + bias + add`` for x (B, K), W (N, K) in PyTorch's layout, bias (N,), add (B, N).

    ``weight_t``: ``W.detach().t().contiguous()`` when the caller has it already (a layer
    reuses one W at every step); the backward pass needs it for ``g·W``.
    """
    if not onednn_applies(x) or (add is not None and add.shape != (x.shape[0], weight.shape[0])):
        base = bias if add is None else (add if bias is None else add + bias)
        return x.matmul(weight.t()) if base is None else torch.addmm(base, x, weight.t())
    if weight_t is None:
        weight_t = weight.detach().t().contiguous()
    return _OneDNNLinear.apply(x.contiguous(), weight.contiguous(), bias, add, weight_t)
