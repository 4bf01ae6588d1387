"""rnnlab's C++ CPU kernels compute what the fused kernels and the equations compute (skipped where unbuilt)."""

import itertools

import pytest
import torch

from rnnlab.nn import GRU, LSTM, SimpleRNN, kernels

pytestmark = pytest.mark.skipif(kernels.get() is None, reason="rnnlab's C++ kernels are not built (make install)")

CASES = list(itertools.product([LSTM, GRU], [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize(("cls", "num_layers", "bidirectional", "return_sequences", "with_lengths"), CASES)
def test_native_agrees_with_fused(cls, num_layers, bidirectional, return_sequences, with_lengths):
    layer = cls(5, 7, num_layers=num_layers, bidirectional=bidirectional, return_sequences=return_sequences).eval()
    x = torch.randn(3, 9, 5)
    lengths = torch.tensor([9, 2, 5]) if with_lengths else None
    state = torch.randn(num_layers * (2 if bidirectional else 1), 3, 7)
    initial = (state, torch.randn_like(state)) if cls is LSTM else state
    with torch.no_grad():
        layer.impl = "fused"
        want = layer(x, lengths=lengths, initial_state=initial)
        layer.impl = "native"
        got = layer(x, lengths=lengths, initial_state=initial)
    assert layer.last_path == "native"
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_auto_routes():
    gru = GRU(4, 6, bidirectional=True).eval()
    with torch.no_grad():
        gru(torch.randn(64, 5, 4))
    assert gru.last_path == "native"  # the GRU: rnnlab's kernels on the CPU, inference ...
    gru.train()
    gru(torch.randn(2, 5, 4))
    assert gru.last_path == "native"  # ... and training
    gru.double()(torch.randn(2, 5, 4).double())
    assert gru.last_path == "fused"  # float64: PyTorch's
    lstm = LSTM(4, 6).eval()
    with torch.no_grad():
        lstm(torch.randn(1, 5, 4))
    assert lstm.last_path == "fused"  # the LSTM keeps oneDNN, faster than rnnlab's kernels
    lstm.impl = "native"
    with torch.no_grad():
        lstm(torch.randn(1, 5, 4))
    assert lstm.last_path == "native"  # unless asked


def test_native_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="LSTM and GRU"):
        SimpleRNN(3, 4).impl = "native"
    with pytest.raises(ValueError, match="cannot run"):
        GRU(3, 4, reset_after=False).impl = "native"
    with pytest.raises(ValueError, match="c_n cannot be read off the outputs"):  # said when asked, not at a call
        LSTM(3, 4, return_state=True, impl="native")
    gru = GRU(3, 4, impl="native")
    with pytest.raises(ValueError, match=r"impl='native' cannot run this GRU: torch.float64 input"):
        gru(torch.randn(1, 2, 3, dtype=torch.float64))


TRAIN_CASES = list(itertools.product([LSTM, GRU], [1, 2], [False, True], [False, True], [3, 17]))


@pytest.mark.parametrize(("cls", "num_layers", "bidirectional", "with_lengths", "batch"), TRAIN_CASES)
def test_native_training_gradients_agree(cls, num_layers, bidirectional, with_lengths, batch):
    """Batch 3 takes the kernels' hand-written small product, batch 17 oneDNN's matmul (or at::mm)."""
    torch.manual_seed(0)
    layer = cls(5, 7, num_layers=num_layers, bidirectional=bidirectional, return_sequences=True)
    x = torch.randn(batch, 9, 5, requires_grad=True)
    lengths = torch.arange(batch) % 9 + 1 if with_lengths else None
    state = torch.randn(num_layers * (2 if bidirectional else 1), batch, 7, requires_grad=True)
    cell_state = torch.randn_like(state, requires_grad=True)
    initial = (state, cell_state) if cls is LSTM else state
    inputs = [x, state, cell_state] if cls is LSTM else [x, state]
    results = {}
    for impl in ("fused", "native"):
        layer.impl = impl
        y = layer(x, lengths=lengths, initial_state=initial)
        weights = torch.linspace(-1, 1, y.numel()).view_as(y)  # every output step matters differently
        grads = torch.autograd.grad((y * weights).sum(), [*inputs, *layer.parameters()])
        results[impl] = (y.detach(), grads)
    assert layer.last_path == "native"
    torch.testing.assert_close(results["native"][0], results["fused"][0], atol=1e-5, rtol=1e-5)
    for got, want in zip(results["native"][1], results["fused"][1], strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_native_gru_learns():
    torch.manual_seed(0)
    layer = GRU(3, 8, impl="native")
    head = torch.nn.Linear(8, 1)
    x = torch.randn(32, 6, 3)
    target = x[:, 0, :1]  # remember the first step
    opt = torch.optim.Adam([*layer.parameters(), *head.parameters()], lr=0.02)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(head(layer(x)), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_native_gru_under_bf16_autocast_computes_in_float32():
    gru = GRU(5, 7, bidirectional=True, return_sequences=True)
    x = torch.randn(4, 6, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = gru(x)
    assert gru.last_path == "native" and y.dtype == torch.float32
    gru.impl = "fused"
    torch.testing.assert_close(y, gru(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("train", [False, True])
def test_native_never_writes_into_the_parameters(cls, train):
    """A one-step, one-sequence input once made the input projection's output a view of the bias."""
    layer = cls(3, 4, num_layers=2, impl="native").train(train)
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    for shape in [(1, 1, 3), (1, 2, 3), (17, 1, 3)]:
        out = layer(torch.randn(*shape))
        if train:
            out.sum().backward()
    for k, v in layer.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_onednn_and_mm_products_agree():
    native = kernels.get()
    if not kernels.onednn_runs():
        pytest.skip("this CPU refuses oneDNN's matmul (no AVX-512 for this PyTorch build): at::mm only")
    layer = GRU(5, 7, bidirectional=True, return_sequences=True, impl="native")
    x = torch.randn(20, 6, 5)  # batch 20: every product on oneDNN when it is on
    results = []
    for on in (True, False):
        previous = native.use_onednn(on)
        try:
            y = layer(x)
            results.append((y.detach(), torch.autograd.grad(y.square().sum(), list(layer.parameters()))))
        finally:
            native.use_onednn(previous)
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-5, rtol=1e-5)
    for a, b in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_the_plan_says_why_faster_paths_were_passed_over():
    x = torch.randn(2, 5, 3)
    how = GRU(3, 4).double().plan(x.double())
    assert how.path == "fused" and how.reasons == ("native: torch.float64 input (the kernels compute float32)",)
    how = GRU(3, 4, reset_after=False).plan(x)
    assert how.path == "equations" and any("reset_after=False" in r for r in how.reasons)
    how = LSTM(3, 4, return_state=True).plan(x, torch.tensor([5, 2]))
    assert (how.path, how.lengths, how.reasons) == ("fused", "pack", ())  # c_n: packed, never masked
    lstm = LSTM(3, 4, recurrent_dropout=0.3)
    assert lstm.plan(x).path == "equations" and "recurrent_dropout" in lstm.plan(x).reasons[0]
    assert lstm.eval().plan(x).path == "fused"  # no dropout in inference: the kernels run it
