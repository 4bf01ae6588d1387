"""Dense heads: one Dense at the last step, or the same Dense at every step (the course's "how many Dense cells?").

A Dense layer acts on the last axis, so the *same* layer (same parameters) gives one
output per sequence after ``return_sequences=False`` and one per step after
``return_sequences=True`` (Keras' ``TimeDistributed(Dense)``):

>>> import torch
>>> from rnnlab.nn import LSTM
>>> x = torch.randn(8, 20, 3)  # (B, T, I)
>>> once = torch.nn.Sequential(LSTM(3, 16), Dense(16, 1))
>>> every = torch.nn.Sequential(LSTM(3, 16, return_sequences=True), Dense(16, 1))
>>> once(x).shape, every(x).shape  # (B, 1) vs (B, T, 1)
(torch.Size([8, 1]), torch.Size([8, 20, 1]))
>>> n_params = lambda m: sum(p.numel() for p in m.parameters())
>>> n_params(once) == n_params(every) == 4 * 16 * (3 + 16) + 2 * 4 * 16 + 16 + 1
True
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

DenseActivation = Literal["linear", "tanh", "relu", "sigmoid", "softmax"]
_ACTIVATIONS = {
    "linear": lambda a: a,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "softmax": lambda a: torch.softmax(a, dim=-1),
}


class Dense(nn.Linear):
    """``y = act(W·x + b)`` over the last axis: (B, H) -> (B, K) or (B, T, H) -> (B, T, K)."""

    def __init__(self, in_features: int, out_features: int, activation: DenseActivation = "linear"):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(_ACTIVATIONS)}, received {activation!r}")
        super().__init__(in_features, out_features)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        return _ACTIVATIONS[self.activation](super().forward(x))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, activation={self.activation!r}"
