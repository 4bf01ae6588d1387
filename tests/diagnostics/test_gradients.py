"""The diagnostics against values computed by hand on tiny cells."""

import math

import numpy as np
import pytest
import torch

from rnnlab.diagnostics import (
    bounds_table,
    derivative_bounds,
    gate_statistics,
    gradient_by_lag,
    jacobian_spectrum,
)
from rnnlab.nn import GRU, LSTM, SimpleRNN


def linear_rnn(w: float, u: float = 1.0, activation="identity") -> SimpleRNN:
    layer = SimpleRNN(1, 1, activation=activation)
    with torch.no_grad():
        layer.rnn.weight_hh_l0.fill_(w)
        layer.rnn.weight_ih_l0.fill_(u)
        layer.rnn.bias_ih_l0.zero_()
        layer.rnn.bias_hh_l0.zero_()
    return layer


@pytest.mark.parametrize("w", [0.5, -0.9, 1.1])
def test_linear_rnn_gradient_by_lag_is_w_to_the_k(w):
    x = torch.randn(3, 8, 1)
    layer = linear_rnn(w, u=2.0)
    by_input = gradient_by_lag(layer, x)["input"]
    np.testing.assert_allclose(by_input.mean, [2.0 * abs(w) ** n for n in range(8)], rtol=1e-6)
    assert by_input.values.shape == (3, 8) and np.allclose(by_input.std, 0, atol=1e-6)
    by_hidden = gradient_by_lag(layer, x, wrt="hidden")["layer"]
    np.testing.assert_allclose(by_hidden.mean, [abs(w) ** n for n in range(8)], rtol=1e-6)
    assert by_hidden.decay(3) == pytest.approx(abs(w) ** 3)


def test_tanh_rnn_input_gradient_by_hand():
    """h_t = tanh(w h_{t-1} + x_t): ∂h_T/∂x_{T-n} = Π (1 - h²) · w^n, computed in scalar math."""
    w, xs = 0.8, [0.3, -0.5, 0.9, 0.1]
    layer = linear_rnn(w, activation="tanh")
    h, hs = 0.0, []
    for x_t in xs:
        h = math.tanh(w * h + x_t)
        hs.append(h)
    expected = []
    for n in range(len(xs)):
        k = len(xs) - 1 - n
        g = 1 - hs[k] ** 2
        for t in range(k + 1, len(xs)):
            g *= w * (1 - hs[t] ** 2)
        expected.append(g)
    got = gradient_by_lag(layer, torch.tensor(xs).view(1, 4, 1))["input"].mean
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_both_paths_give_the_same_input_profile():
    x = torch.randn(4, 12, 3)
    layer = LSTM(3, 6, bidirectional=True)
    fused = gradient_by_lag(layer, x)["input"].mean
    layer.impl = "equations"
    np.testing.assert_allclose(gradient_by_lag(layer, x)["input"].mean, fused, rtol=1e-4, atol=1e-9)


def test_hidden_profiles_per_layer_and_direction_restore_the_path():
    model = torch.nn.Sequential(GRU(3, 5, num_layers=2, bidirectional=True), torch.nn.Linear(10, 1))
    profiles = gradient_by_lag(model, torch.randn(2, 7, 3), wrt="hidden")
    assert sorted(profiles) == ["0/layer0/backward", "0/layer0/forward", "0/layer1/backward", "0/layer1/forward"]
    assert all(p.values.shape == (2, 7) for p in profiles.values())
    assert profiles["0/layer1/forward"].mean[0] > 0
    assert model[0].impl == "auto"  # switched to the equations only while measuring


def test_hidden_needs_a_recurrent_layer():
    with pytest.raises(ValueError, match="has no rnnlab recurrent layer"):
        gradient_by_lag(torch.nn.Linear(3, 1), torch.randn(2, 4, 3), wrt="hidden")
    with pytest.raises(ValueError, match="wrt must be 'input' or 'hidden'"):
        gradient_by_lag(LSTM(3, 2), torch.randn(2, 4, 3), wrt="cell")


def test_jacobian_spectrum_linear_rnn():
    spectrum = jacobian_spectrum(linear_rnn(-0.7), torch.randn(2, 6, 1))
    np.testing.assert_allclose(spectrum.mean_step_norm, 0.7, rtol=1e-6)
    np.testing.assert_allclose(spectrum.mean_product_norm, [0.7**n for n in range(6)], rtol=1e-5)


def test_jacobian_spectrum_lstm_matches_autograd():
    layer = LSTM(2, 3).eval()
    x = torch.randn(1, 4, 2)
    spectrum = jacobian_spectrum(layer, x)
    cell = layer.cell()
    xw = cell.project(x[0])  # (T, 4H)
    state = cell.initial_state(1)
    for t in range(4):
        flat = torch.cat(state, -1)[0]

        def f(s, t=t):
            _, new = cell(xw[t : t + 1], (s[None, :3], s[None, 3:]))
            return torch.cat(new, -1)[0]

        J = torch.autograd.functional.jacobian(f, flat)
        assert spectrum.step_norms[0, t] == pytest.approx(torch.linalg.matrix_norm(J, ord=2).item(), rel=1e-5)
        _, state = cell(xw[t : t + 1], state)


def test_gate_statistics_constant_forget_gate():
    layer = LSTM(2, 4, unit_forget_bias=False)
    with torch.no_grad():
        for name, p in layer.rnn.named_parameters():
            p.zero_()
            if name == "bias_ih_l0":
                p[4:8] = 3.0  # forget gate σ(3) = 0.953 everywhere
    stats = gate_statistics(layer, torch.randn(3, 5, 2))["layer"]
    assert stats["f"]["mean"] == pytest.approx(1 / (1 + math.exp(-3)), rel=1e-6)
    assert stats["f"]["near_1"] == 1.0 and stats["f"]["near_0"] == 0.0
    assert stats["i"]["mean"] == pytest.approx(0.5) and stats["i"]["near_1"] == 0.0
    assert stats["g"]["saturated"] == 0.0
    gru = gate_statistics(GRU(2, 4, bidirectional=True), torch.randn(3, 5, 2))
    assert sorted(gru) == ["layer/layer0/backward", "layer/layer0/forward"]
    assert sorted(gru["layer/layer0/forward"]) == ["n", "r", "z"]
    assert gate_statistics(SimpleRNN(2, 3), torch.randn(1, 4, 2)) == {"layer": {}}


def test_bounds_table_is_exact():
    rows = {r["quantity"]: r for r in bounds_table()}
    assert rows["0.25^1"]["decimal"] == "0.25"
    assert rows["0.25^8"]["decimal"] == "1.52587890625e-05"
    assert rows["0.25^16"]["exact"] == "1/4294967296"
    assert rows["0.25^50"]["exact"] == f"1/{4**50}"
    assert rows["0.25^50"]["decimal"].startswith("7.8886090522101180541172856528278622967320643510902300477027893066")
    assert float(rows["0.25^50"]["decimal"]) == 0.25**50
    measured = {r["function"]: float(r["measured"]) for r in derivative_bounds()}
    assert measured == {"sigmoid": 0.25, "tanh": 1.0}
