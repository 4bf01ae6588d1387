"""The public recurrent layers ``SimpleRNN``, ``LSTM`` and ``GRU`` (Keras semantics, PyTorch parameters).

Every layer takes x (B, T, I) and returns, Keras-style:

- ``return_sequences=False``: y (B, D·H) (H for merge modes other than concat): the last
  *real* step of each sequence for the forward direction, step 0 for the backward one;
- ``return_sequences=True``: y (B, T, D·H), zero on padded steps;
- ``return_state=True``: ``(y, h_n)`` or ``(y, h_n, c_n)``, each (L·D, B, H) in PyTorch's
  layer/direction order.

``lengths`` (B,) describes right-padded batches: each sequence gets exactly what it would
get alone, unpadded. ``impl`` picks the path: ``"equations"`` (the cells of
:mod:`rnnlab.nn.cells`), ``"fused"`` (torch's oneDNN/cuDNN kernels on the same
parameters, packed sequences for ``lengths``) or ``"auto"`` (fused whenever it can run the
configuration); ``layer.path`` tells which one runs, ``layer.plan(x, lengths)`` how and why
(:mod:`rnnlab.nn.routing`).

>>> import torch
>>> x = torch.randn(4, 7, 3)  # (B, T, I)
>>> LSTM(3, 5)(x).shape
torch.Size([4, 5])
>>> y, h, c = LSTM(3, 5, bidirectional=True, return_sequences=True, return_state=True)(x)
>>> y.shape, h.shape, c.shape
(torch.Size([4, 7, 10]), torch.Size([2, 4, 5]), torch.Size([2, 4, 5]))
>>> GRU(3, 5, reset_after=False).path  # the course's GRU has no fused kernel
'equations'
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.nn.cells import ACTIVATIONS, Activation, GRUCell, LSTMCell, RNNCell
from rnnlab.nn.recurrent import Impl, Recurrent, RecurrentConfig

# The contract lists num_layers ... impl as ordinary (positional-or-keyword)
# parameters, so they stay so; options beyond that list are keyword-only.


@dataclasses.dataclass(frozen=True)
class SimpleRNNConfig(RecurrentConfig):
    kind = "SimpleRNN"
    activation: str = "tanh"
    residual: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {list(ACTIVATIONS)}, received {self.activation!r}")


@dataclasses.dataclass(frozen=True)
class LSTMConfig(RecurrentConfig):
    kind = "LSTM"
    unit_forget_bias: bool = True


@dataclasses.dataclass(frozen=True)
class GRUConfig(RecurrentConfig):
    kind = "GRU"
    reset_after: bool = True


class SimpleRNN(Recurrent):
    """Vanilla RNN layer, ``h_t = F(W·[h_{t-1}, x_t] + b)``, F in {tanh, relu, sigmoid, identity}.

    Fused kernels exist for tanh and relu only. ``residual=True`` is the skip-connection variant
    ``h_t = h_{t-1} + F(W·[h_{t-1}, x_t] + b)`` (equation path only).
    """

    cell_class = RNNCell
    torch_class = nn.RNN
    config_class = SimpleRNNConfig

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        return_sequences: bool = False,
        return_state: bool = False,
        merge_mode: str = "concat",
        dropout: float = 0.0,
        impl: Impl = "auto",
        *,
        recurrent_dropout: float = 0.0,
        weight_dropout: float = 0.0,
        activation: Activation = "tanh",
        residual: bool = False,
    ) -> None:
        config = SimpleRNNConfig(
            input_size, hidden_size, num_layers, bidirectional, return_sequences, return_state,
            merge_mode, dropout, recurrent_dropout, activation=activation, residual=residual,
            weight_dropout=weight_dropout,
        )  # fmt: skip
        super().__init__(config, impl)

    def _torch_options(self) -> dict[str, Any]:
        # sigmoid/identity have no kernel: the torch module then only stores the parameters
        act = self.config.activation
        return {"nonlinearity": act if act in ("tanh", "relu") else "tanh"}

    def _cell_options(self) -> dict[str, Any]:
        return {"activation": self.config.activation, "residual": self.config.residual}

    def _fused_blockers(self) -> list[str]:
        act = self.config.activation
        blockers = [] if act in ("tanh", "relu") else [f"activation={act!r} (kernels: tanh, relu)"]
        if self.config.residual:
            blockers.append("residual=True (no kernel has the skip connection)")
        return blockers


class LSTM(Recurrent):
    """LSTM layer: ``c_t = f⊙c_{t-1} + i⊙c~_t``, ``h_t = o⊙tanh(c_t)`` (see :class:`LSTMCell`).

    ``unit_forget_bias=True`` (Keras' default) starts the forget gate's bias at 1, so that
    the cell state is kept at first (Jozefowicz et al. 2015); PyTorch starts it at random.
    """

    cell_class = LSTMCell
    torch_class = nn.LSTM
    config_class = LSTMConfig

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        return_sequences: bool = False,
        return_state: bool = False,
        merge_mode: str = "concat",
        dropout: float = 0.0,
        impl: Impl = "auto",
        *,
        recurrent_dropout: float = 0.0,
        weight_dropout: float = 0.0,
        unit_forget_bias: bool = True,
    ) -> None:
        config = LSTMConfig(
            input_size, hidden_size, num_layers, bidirectional, return_sequences, return_state,
            merge_mode, dropout, recurrent_dropout, unit_forget_bias=unit_forget_bias,
            weight_dropout=weight_dropout,
        )  # fmt: skip
        super().__init__(config, impl)
        if unit_forget_bias:
            self.reset_forget_bias()

    @torch.no_grad()
    def reset_forget_bias(self) -> None:
        """b_f = 1: bias_ih's forget rows at 1, bias_hh's at 0 (their sum is the bias)."""
        H = self.config.hidden_size
        for name, p in self.rnn.named_parameters():
            if name.startswith("bias_"):
                p[H : 2 * H] = 1.0 if name.startswith("bias_ih") else 0.0


class GRU(Recurrent):
    """GRU layer, update gate z and reset gate r; ``reset_after`` picks the form (see :class:`GRUCell`).

    ``reset_after=True`` (default, as Keras) is cuDNN's form and runs fused;
    ``reset_after=False`` is the course's form (Cho et al. 2014) and runs on the equations.
    """

    cell_class = GRUCell
    torch_class = nn.GRU
    config_class = GRUConfig

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        return_sequences: bool = False,
        return_state: bool = False,
        merge_mode: str = "concat",
        dropout: float = 0.0,
        impl: Impl = "auto",
        *,
        recurrent_dropout: float = 0.0,
        weight_dropout: float = 0.0,
        reset_after: bool = True,
    ) -> None:
        config = GRUConfig(
            input_size, hidden_size, num_layers, bidirectional, return_sequences, return_state,
            merge_mode, dropout, recurrent_dropout, reset_after=reset_after,
            weight_dropout=weight_dropout,
        )  # fmt: skip
        super().__init__(config, impl)

    def _cell_options(self) -> dict[str, Any]:
        return {"reset_after": self.config.reset_after}

    def _fused_blockers(self) -> list[str]:
        if self.config.reset_after:
            return []
        return ["reset_after=False (the course's GRU; cuDNN applies r after the product)"]


LAYERS: dict[str, type[Recurrent]] = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
