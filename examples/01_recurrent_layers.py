"""Chapter 1 — recurrent layers: one step of each cell by hand, then the same weights on both paths.

python examples/01_recurrent_layers.py
"""

import torch

from rnnlab.nn import GRU, LSTM, Dense, SimpleRNN

torch.manual_seed(0)
x = torch.randn(4, 12, 3)  # (batch, time, features)
lengths = torch.tensor([12, 7, 3, 1])  # right-padded batch

# 1. A cell is the course's equations: h_t = F(W·[h_{t-1}, x_t] + b)
rnn = SimpleRNN(3, 5, activation="tanh")
cell = rnn.cell()  # bound to rnn's own parameters
h = cell.initial_state(4)
for t in range(3):
    y_t, h = cell.step(x[:, t], h)
print("SimpleRNN h_3 by hand :", y_t[0, :3].tolist())
print("SimpleRNN layer, T=3  :", rnn(x[:, :3])[0, :3].tolist())

# 2. One set of parameters, two paths: the equations and the fused oneDNN/cuDNN kernel
lstm = LSTM(3, 8, num_layers=2, bidirectional=True, return_sequences=True, return_state=True).eval()
y_fused, h_fused, c_fused = lstm(x, lengths=lengths)
lstm.impl = "equations"
y_eq, h_eq, c_eq = lstm(x, lengths=lengths)
print(f"LSTM fused vs equations: max |Δy| = {(y_fused - y_eq).abs().max():.1e}, shapes {tuple(y_eq.shape)}, "
      f"h_n {tuple(h_eq.shape)}")  # fmt: skip

# 3. The GRU of the course (reset before the product) and cuDNN's (reset after)
print("GRU(reset_after=False) runs on:", GRU(3, 8, reset_after=False).path)
print("GRU(reset_after=True)  runs on:", GRU(3, 8).path)

# 4. How many Dense cells? One at the last step, or the same one at every step
once = torch.nn.Sequential(LSTM(3, 8), Dense(8, 1))
every = torch.nn.Sequential(LSTM(3, 8, return_sequences=True), Dense(8, 1))
print("Dense once:", tuple(once(x).shape), " Dense at every step:", tuple(every(x).shape))
