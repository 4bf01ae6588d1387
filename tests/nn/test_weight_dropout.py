"""Weight drop (DropConnect on the hidden-to-hidden weights): the same masks on every path, off in evaluation."""

import pytest
import torch
import torch.nn.functional as F

from rnnlab.errors import ConfigError
from rnnlab.nn import GRU, LSTM, SimpleRNN, kernels

x = torch.randn(4, 6, 3)
lengths = torch.tensor([6, 3, 2, 5])
IMPLS = ["fused", "equations"] + (["native"] if kernels.get() is not None else [])


def _layer(cls, impl="auto", **kw):
    torch.manual_seed(0)
    return cls(3, 5, bidirectional=True, return_sequences=True, weight_dropout=0.5, impl=impl, **kw)


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_every_path_drops_the_same_weights(cls):
    """With the same seed the fused kernels (direction by direction), rnnlab's C++ kernels and the equations
    draw the same masks and give the same outputs and weight gradients."""
    outputs, grads = [], []
    for impl in IMPLS if cls is not SimpleRNN else ["fused", "equations"]:
        layer = _layer(cls, impl).train()
        torch.manual_seed(1)
        y = layer(x, lengths=lengths)
        y.pow(2).sum().backward()
        outputs.append(y)
        grads.append(layer.rnn.weight_hh_l0.grad)
        assert layer.last_path == impl
    for y, g in zip(outputs[1:], grads[1:], strict=True):
        torch.testing.assert_close(y, outputs[0], atol=2e-6, rtol=0)
        torch.testing.assert_close(g, grads[0], atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_it_is_the_layer_run_on_dropped_weights(cls):
    layer = _layer(cls).train()
    torch.manual_seed(1)
    got = layer(x, lengths=lengths)
    # the same call by hand: a copy without weight drop whose weight_hh are the dropped matrices (same draws)
    plain = cls(3, 5, bidirectional=True, return_sequences=True).eval()
    plain.load_state_dict(layer.state_dict())
    torch.manual_seed(1)
    with torch.no_grad():
        for name in ("weight_hh_l0", "weight_hh_l0_reverse"):
            dropped = F.dropout(getattr(layer.rnn, name), 0.5, training=True)
            assert 0.3 < (dropped == 0).float().mean() < 0.7
            getattr(plain.rnn, name).copy_(dropped)
    torch.testing.assert_close(got, plain(x, lengths=lengths), atol=2e-6, rtol=0)


def test_off_in_evaluation_and_fresh_masks_in_training():
    layer = _layer(LSTM)
    plain = LSTM(3, 5, bidirectional=True, return_sequences=True)
    plain.load_state_dict(layer.state_dict())
    layer.eval(), plain.eval()
    torch.testing.assert_close(layer(x, lengths=lengths), plain(x, lengths=lengths))
    layer.train()
    assert not torch.allclose(layer(x, lengths=lengths), layer(x, lengths=lengths))
    assert layer.path == "fused"  # it keeps the fused kernels (variational recurrent dropout does not)


def test_an_lstm_returning_c_n_drops_weights_on_the_equations():
    layer = LSTM(3, 5, return_state=True, weight_dropout=0.5).train()
    assert layer.path == "equations"
    _, h, c = layer(x, lengths=lengths)
    assert h.shape == c.shape == (1, 4, 5)
    assert layer.eval().path == "fused"
    with pytest.raises(ValueError, match="weight_dropout > 0 with an LSTM's return_state"):
        layer.impl = "fused"
    with pytest.raises(ConfigError, match="weight_dropout must lie in"):
        LSTM(3, 5, weight_dropout=1.0)
