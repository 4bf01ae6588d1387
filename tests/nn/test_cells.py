"""Golden values: the cells against the course's equations computed by hand in scalar math."""

import math

import pytest
import torch

from rnnlab.nn import GRU, LSTM, GRUCell, LSTMCell, RNNCell, SimpleRNN


def sigma(a: float) -> float:
    return 1 / (1 + math.exp(-a))


def constant_layer(cls, I, H, w, b_ih=0.0, b_hh=0.0, **kw):
    layer = cls(I, H, return_sequences=True, impl="equations", **kw)
    with torch.no_grad():
        for name, p in layer.rnn.named_parameters():
            p.fill_(w if name.startswith("weight") else (b_ih if "ih" in name else b_hh))
    return layer


def test_lstm_golden_values_constant_weights():
    I, H, w = 3, 2, 0.1
    layer = constant_layer(LSTM, I, H, w, unit_forget_bias=False)
    x = torch.ones(1, 3, I)
    h = c = 0.0
    expected = []
    for _ in range(3):  # every unit is identical, so one scalar stands for each vector
        a = w * I + w * H * h
        i, f, g, o = sigma(a), sigma(a), math.tanh(a), sigma(a)
        c = f * c + i * g
        h = o * math.tanh(c)
        expected.append(h)
    y = layer(x)[0, :, 0]
    assert y.tolist() == pytest.approx(expected, abs=1e-6)
    layer.impl = "fused"
    assert layer(x)[0, :, 0].tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_golden_values_both_forms(reset_after):
    I, H, w, b_ih, b_hh = 2, 3, 0.2, 0.1, 0.5
    layer = constant_layer(GRU, I, H, w, b_ih, b_hh, reset_after=reset_after)
    x = torch.ones(1, 3, I)
    h = 0.0
    expected = []
    for _ in range(3):
        r = sigma(w * I + b_ih + w * H * h + b_hh)
        z = sigma(w * I + b_ih + w * H * h + b_hh)
        if reset_after:  # cuDNN: r multiplies (W_hn·h + b_hn)
            n = math.tanh(w * I + b_ih + r * (w * H * h + b_hh))
        else:  # course: r multiplies h before the product
            n = math.tanh(w * I + b_ih + w * H * (r * h) + b_hh)
        h = z * h + (1 - z) * n
        expected.append(h)
    assert layer(x)[0, :, 0].tolist() == pytest.approx(expected, abs=1e-6)


def test_gru_forms_differ_on_same_weights():
    x = torch.randn(2, 5, 3)
    a = GRU(3, 4, reset_after=True, impl="equations")
    b = GRU(3, 4, reset_after=False, impl="equations")
    b.load_state_dict(a.state_dict())
    assert not torch.allclose(a(x), b(x), atol=1e-4)


@pytest.mark.parametrize(
    ("activation", "F"),
    [("tanh", math.tanh), ("relu", lambda a: max(a, 0.0)), ("sigmoid", sigma), ("identity", lambda a: a)],
)
def test_simple_rnn_golden_values(activation, F):
    w, u, b = 0.9, 0.5, -0.1
    layer = SimpleRNN(1, 1, return_sequences=True, activation=activation, impl="equations")
    with torch.no_grad():
        layer.rnn.weight_ih_l0.fill_(u)
        layer.rnn.weight_hh_l0.fill_(w)
        layer.rnn.bias_ih_l0.fill_(b)
        layer.rnn.bias_hh_l0.fill_(0.0)
    xs = [1.0, -2.0, 0.5, 3.0]
    h, expected = 0.0, []
    for x_t in xs:
        h = F(w * h + u * x_t + b)  # h_t = F(W·[h_{t-1}, x_t] + b)
        expected.append(h)
    y = layer(torch.tensor(xs).view(1, 4, 1))[0, :, 0]
    assert y.tolist() == pytest.approx(expected, abs=1e-6)


def test_linear_rnn_state_is_w_to_the_k():
    layer = SimpleRNN(1, 1, return_state=True, activation="identity", impl="equations")
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        layer.rnn.weight_hh_l0.fill_(0.5)
    x = torch.zeros(1, 6, 1)
    _, h_n = layer(x, initial_state=torch.ones(1, 1, 1))
    assert h_n.item() == pytest.approx(0.5**6)


def test_cell_step_matches_layer_and_protocol():
    layer = LSTM(3, 4, return_sequences=True, impl="equations").eval()
    x = torch.randn(2, 5, 3)
    cell = layer.cell(0, 0)
    assert isinstance(cell, LSTMCell)
    state = cell.initial_state(2)
    outs = []
    for t in range(5):
        y, state = cell.step(x[:, t], state)
        outs.append(y)
    assert torch.allclose(torch.stack(outs, 1), layer(x), atol=1e-6)
    assert len(state) == 2 and state[1].shape == (2, 4)


def test_cells_report_their_gates():
    assert (RNNCell.n_gates, LSTMCell.n_gates, GRUCell.n_gates) == (1, 4, 3)
    assert (RNNCell.state_size, LSTMCell.state_size, GRUCell.state_size) == (1, 2, 1)


def test_unit_forget_bias():
    layer = LSTM(3, 4, num_layers=2, bidirectional=True)
    H = 4
    for name, p in layer.rnn.named_parameters():
        if name.startswith("bias_ih"):
            assert torch.all(p[H : 2 * H] == 1.0)
        elif name.startswith("bias_hh"):
            assert torch.all(p[H : 2 * H] == 0.0)
    plain = LSTM(3, 4, unit_forget_bias=False)
    assert not torch.all(plain.rnn.bias_ih_l0[H : 2 * H] == 1.0)
