"""Chapter 2 — vanishing gradients: why a vanilla RNN forgets and an LSTM remembers.

python examples/02_vanishing_gradients.py
"""

import torch

from rnnlab.diagnostics import (
    adding_problem,
    bounds_table,
    derivative_bounds,
    gate_statistics,
    gradient_by_lag,
    jacobian_spectrum,
)
from rnnlab.nn import LSTM, SimpleRNN

torch.manual_seed(0)

# 1. The bound: a sigmoid's derivative is at most 1/4, so n of them multiply to at most 0.25^n
for row in derivative_bounds():
    print(f"max {row['function']}' = {row['max_derivative']} (measured {row['measured']})")
for row in bounds_table():
    print(f"{row['quantity']:>8} = {row['exact']} = {row['decimal']}")

# 2. The measurement: how much gradient reaches step T-1-n from the last output
x, _ = adding_problem(32, 60, generator=torch.Generator().manual_seed(1))
for name, layer in [("SimpleRNN", SimpleRNN(2, 32)), ("LSTM", LSTM(2, 32))]:
    profile = gradient_by_lag(layer, x, wrt="hidden")["layer"]
    spectrum = jacobian_spectrum(layer, x)
    print(f"{name:9}: gradient left after 10 steps {profile.decay(10):.1e}, after 59 steps {profile.decay(59):.1e}; "
          f"mean ‖∂s_t/∂s_(t-1)‖ = {spectrum.mean_step_norm.mean():.2f}")  # fmt: skip

# 3. Why the LSTM keeps it: its forget gates start near σ(1) = 0.73 and the cell state is additive
f = gate_statistics(LSTM(2, 32), x)["layer"]["f"]
print(f"LSTM forget gate at initialisation: mean {f['mean']:.2f}, fraction > 0.9: {f['near_1']:.2f}")
