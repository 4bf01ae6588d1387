"""rnnlab.nn.gemm.linear: oneDNN's matmul where it applies, torch.addmm elsewhere, the same numbers either way."""

import pytest
import torch

from rnnlab.nn import GRU, LSTM, SimpleRNN, gemm

needs_onednn = pytest.mark.skipif(gemm._LINEAR is None, reason="this PyTorch has no oneDNN linear op")


def _both(fn):
    """fn() with the oneDNN op, then with it switched off."""
    saved = gemm._LINEAR
    try:
        first = fn()
        gemm._LINEAR = None
        return first, fn()
    finally:
        gemm._LINEAR = saved


@needs_onednn
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("with_add", [False, True])
def test_linear_values_and_gradients_match_addmm(with_bias, with_add):
    torch.manual_seed(0)
    x = torch.randn(32, 6, requires_grad=True)
    w = torch.randn(5, 6, requires_grad=True)
    b = torch.randn(5, requires_grad=True) if with_bias else None
    add = torch.randn(32, 5, requires_grad=True) if with_add else None
    leaves = [t for t in (x, w, b, add) if t is not None]

    def run():
        y = gemm.linear(x, w, b, add=add)
        return y.detach(), torch.autograd.grad((y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum(), leaves)

    (y1, g1), (y2, g2) = _both(run)
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-5)
    for a, c in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, c, atol=1e-5, rtol=1e-5)


def test_onednn_applies_only_where_it_can():
    if gemm._LINEAR is None:
        assert not gemm.onednn_applies(torch.randn(32, 4))
        return
    assert gemm.onednn_applies(torch.randn(32, 4))
    assert not gemm.onednn_applies(torch.randn(2, 4))  # a few rows: addmm is cheaper
    assert not gemm.onednn_applies(torch.randn(32, 4, dtype=torch.float64))
    assert not gemm.onednn_applies(torch.randn(3, 32, 4))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not gemm.onednn_applies(torch.randn(32, 4))


@needs_onednn
@pytest.mark.parametrize(("cls", "extra"), [(LSTM, {}), (GRU, {}), (GRU, {"reset_after": False}), (SimpleRNN, {})])
def test_equation_path_is_the_same_on_either_product(cls, extra):
    torch.manual_seed(0)
    layer = cls(5, 7, num_layers=2, bidirectional=True, return_sequences=True, impl="equations", **extra)
    x = torch.randn(20, 6, 5, requires_grad=True)
    lengths = torch.arange(20) % 6 + 1

    def run():
        y = layer(x, lengths=lengths)
        return y.detach(), torch.autograd.grad(y.square().sum(), [x, *layer.parameters()])

    (y1, g1), (y2, g2) = _both(run)
    torch.testing.assert_close(y1, y2, atol=1e-5, rtol=1e-5)
    for a, c in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, c, atol=1e-4, rtol=1e-4)


def test_torch_func_transforms_take_the_plain_product():
    cell = LSTM(3, 4).cell()
    state = tuple(torch.zeros(16, 4) for _ in range(2))
    xw = torch.randn(16, 16)
    jac = torch.func.jacrev(lambda h: cell(xw, (h, state[1]))[0])(state[0])
    assert jac.shape == (16, 4, 16, 4)
