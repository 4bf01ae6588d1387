"""One recurrent layer for every cell: one loop for direction, lengths, stacking and return flags (Keras ``RNN(cell)``).

The parameters live in a ``torch.nn.RNN/LSTM/GRU`` module (``layer.rnn``), under PyTorch's
names (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...), so that the same tensors run
either on the equation cells of :mod:`rnnlab.nn.cells` through :func:`scan`, or on the
fused oneDNN/cuDNN kernels (with cuDNN's flattened weight buffer), as ``impl`` says.
Shapes: B batch, T time, I input features, H hidden units, L layers, D directions.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal, Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnlab.config import Config
from rnnlab.errors import ConfigError
from rnnlab.nn import routing
from rnnlab.nn.bidirectional import MERGE_MODES, merge, merged_size
from rnnlab.nn.cells import Cell, State
from rnnlab.nn.fused import FusedPath
from rnnlab.nn.masking import check_lengths, last_valid, reverse_within, valid_mask

Impl = Literal["auto", "fused", "equations", "native"]
IMPLS: tuple[str, ...] = ("auto", "fused", "equations", "native")
LengthsStrategy = Literal["auto", "pack", "mask"]
LENGTHS_STRATEGIES: tuple[str, ...] = ("auto", "pack", "mask")


MAX_LAYERS = 256  # stacked recurrent layers: far beyond any trained network, small enough to refuse at once


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(Config):
    """Architecture of a recurrent layer (the run-time ``impl`` is not part of it)."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    return_sequences: bool = False
    return_state: bool = False
    merge_mode: str = "concat"
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    # DropConnect on the hidden-to-hidden weights (Merity et al. 2018's weight drop): one mask per call in training
    weight_dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("input_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, received {value!r}")
        if self.num_layers > MAX_LAYERS:  # thousands of layers: minutes of building before any error could show
            raise ConfigError(f"num_layers must be at most {MAX_LAYERS}, received {self.num_layers}")
        for name in ("dropout", "recurrent_dropout", "weight_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must lie in [0, 1), received {value!r}")
        if self.merge_mode not in MERGE_MODES:
            raise ConfigError(f"merge_mode must be one of {list(MERGE_MODES)}, received {self.merge_mode!r}")


StepFn = Callable[[Tensor, State], tuple[Tensor, State]]
CellWrapper = Callable[[Cell, int, int], StepFn]


def scan(cell: StepFn, xw: Tensor, state: State, mask: Tensor | None = None) -> tuple[Tensor, State]:
    """Run ``cell`` along time: xw (T, B, G·H) projected inputs -> outputs (B, T, H), final state.

    ``mask`` (T, B, 1) bool marks real steps: on padded steps the state is carried over
    unchanged and the output is zero, so the final state is the one at each sequence's last
    real step. The steps come from ``unbind(0)``: indexing ``xw[t]`` would make autograd
    write a full-size zero tensor per step in the backward pass (O(T²) memory traffic).
    """
    outputs = []
    if mask is None:
        for xw_t in xw.unbind(0):
            y_t, state = cell(xw_t, state)
            outputs.append(y_t)
    else:
        for xw_t, m_t in zip(xw.unbind(0), mask.unbind(0), strict=True):  # m_t (B, 1)
            y_t, new = cell(xw_t, state)
            state = tuple(torch.where(m_t, n, s) for n, s in zip(new, state, strict=True))
            outputs.append(y_t.masked_fill(~m_t, 0.0))
    return torch.stack(outputs, 1), state  # T × (B, H) -> (B, T, H)


def _accept_torch_keys(module: nn.Module, state_dict: dict, prefix: str, *args: Any) -> None:
    """``layer.load_state_dict(torch_lstm.state_dict())`` loads as is: a ``torch.nn.RNN/LSTM/GRU``'s keys
    (``weight_ih_l0``, ...) are this layer's ``rnn.weight_ih_l0``; a key already under ``rnn.`` is kept."""
    names = {name for name, _ in module.rnn.named_parameters()}  # type: ignore[union-attr]
    for key in [k for k in state_dict if k.startswith(prefix) and k[len(prefix) :] in names]:
        state_dict.setdefault(prefix + "rnn." + key[len(prefix) :], state_dict.pop(key))


class Recurrent(FusedPath, nn.Module):
    """Base of :class:`SimpleRNN`, :class:`LSTM` and :class:`GRU`; see their docstrings."""

    cell_class: ClassVar[type[Cell]]
    torch_class: ClassVar[type[nn.RNNBase]]
    config_class: ClassVar[type[RecurrentConfig]]

    def __init__(self, config: RecurrentConfig, impl: Impl = "auto") -> None:
        super().__init__()
        self.config = config
        c = config
        self.rnn = self.torch_class(
            c.input_size,
            c.hidden_size,
            num_layers=c.num_layers,
            batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,  # torch warns on 1 layer
            bidirectional=c.bidirectional,
            **self._torch_options(),
        )
        self.impl = impl
        self.lengths_strategy = "auto"
        self.last_path: str | None = None  # the path the last call took: "native", "fused" or "equations"
        self._cell_wrapper: CellWrapper | None = None
        self.register_load_state_dict_pre_hook(_accept_torch_keys)

    # --- configuration -------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: RecurrentConfig, impl: Impl = "auto") -> Self:
        return cls(**config.to_dict(), impl=impl)

    def _torch_options(self) -> dict[str, Any]:
        return {}

    def _cell_options(self) -> dict[str, Any]:
        return {}

    def _fused_blockers(self) -> list[str]:
        """Reasons the fused kernels cannot compute this layer (besides recurrent dropout)."""
        return []

    @property
    def num_directions(self) -> int:
        return 2 if self.config.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Features of ``y``: D·H for concat, H otherwise."""
        c = self.config
        return merged_size(c.hidden_size, c.bidirectional, c.merge_mode)

    @property
    def impl(self) -> str:
        return self._impl

    @impl.setter
    def impl(self, value: str) -> None:
        if value not in IMPLS:
            raise ValueError(f"impl must be one of {list(IMPLS)}, received {value!r}")
        if value != "auto":
            routing.check_forced(self, value, None, training=True)  # what blocks it for any input, training too
        self._impl = value

    @property
    def lengths_strategy(self) -> str:
        """How the fused path runs a padded batch: "pack", "mask", or "auto" (the faster one measured)."""
        return self._lengths_strategy

    @lengths_strategy.setter
    def lengths_strategy(self, value: LengthsStrategy) -> None:
        if value not in LENGTHS_STRATEGIES:
            raise ValueError(f"lengths_strategy must be one of {list(LENGTHS_STRATEGIES)}, received {value!r}")
        self._lengths_strategy = value

    @property
    def path(self) -> str:
        """The path a call takes now for any input: ``"fused"`` or ``"equations"`` (resolves ``impl="auto"``; on the
        CPU ``auto`` may run a GRU on rnnlab's ``"native"`` kernels, see :meth:`plan` and :attr:`last_path`)."""
        return routing.plan(self).path

    def plan(self, x: Tensor | None = None, lengths: Tensor | None = None) -> routing.Plan:
        """The backend that runs ``self(x, lengths)``, how it runs a padded batch and why faster ones were passed
        over (:func:`rnnlab.nn.routing.plan`)."""
        return routing.plan(self, x, lengths)

    def extra_repr(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.config.to_dict().items())
        return f"{fields}, impl={self._impl!r}"

    # --- forward ---------------------------------------------------------------------------
    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        initial_state: Tensor | tuple[Tensor, ...] | None = None,
    ) -> Tensor | tuple[Tensor, ...]:
        """x (B, T, I) -> y, plus the final states when ``return_state`` (see the class docstring)."""
        self._check_input(x)
        batch, time = x.shape[0], x.shape[1]
        lengths = check_lengths(lengths, batch, time)  # None when every length is T
        state0 = self._check_state(initial_state, batch)
        how = routing.plan(self, x, lengths)
        self.last_path = how.path
        ys, joined, states = routing.BACKENDS[how.path].run(self, x, lengths, state0, how.lengths)
        return self._finish(ys, joined, states, lengths)

    def _finish(self, ys: list[Tensor], joined: Tensor, states: State, lengths: Tensor | None):
        """Apply the return flags. ``ys``: the top layer's (B, T, H) per direction; ``joined``: their concat."""
        c = self.config
        if c.return_sequences:
            y = joined if len(ys) == 1 or c.merge_mode == "concat" else merge(ys[0], ys[1], c.merge_mode)
        else:
            last = last_valid(ys[0], lengths)  # forward direction: last real step, (B, H)
            y = last if len(ys) == 1 else merge(last, ys[1][:, 0], c.merge_mode)  # backward: step 0
        return (y, *states) if c.return_state else y

    @contextlib.contextmanager
    def returning_sequences(self) -> Iterator[None]:
        """Within the block the layer returns every step's output alone (``return_sequences=True``,
        ``return_state=False``) whatever its configuration: a language model reads every step of a
        layer configured to give its last one.

        >>> from rnnlab.nn import LSTM
        >>> layer = LSTM(3, 5)
        >>> with layer.returning_sequences():
        ...     layer(torch.randn(2, 4, 3)).shape
        torch.Size([2, 4, 5])
        >>> layer.config.return_sequences
        False
        """
        saved = self.config
        self.config = dataclasses.replace(saved, return_sequences=True, return_state=False)
        try:
            yield
        finally:
            self.config = saved

    @contextlib.contextmanager
    def wrap_cells(self, wrapper: CellWrapper) -> Iterator[None]:
        """Within the block, the equation path steps through ``wrapper(cell, layer, direction)``.

        The wrapper returns a callable with the cell protocol ``(xw_t, state) -> (y_t, state)``;
        the diagnostics use it to record states and gates. Only the equation path has steps.
        """
        previous, self._cell_wrapper = self._cell_wrapper, wrapper
        try:
            yield
        finally:
            self._cell_wrapper = previous

    def cell(self, layer: int = 0, direction: int = 0) -> Cell:
        """The equation cell bound to one layer/direction's parameters (no dropout mask)."""
        return self.cell_class(*self._weights(layer, direction), **self._cell_options())

    def _run_equations(
        self, x: Tensor, lengths: Tensor | None, state0: State | None
    ) -> tuple[list[Tensor], Tensor, State]:
        c = self.config
        batch, time = x.shape[0], x.shape[1]
        mask = None
        if lengths is not None:
            lengths = lengths.to(x.device)
            mask = valid_mask(lengths, time).t()[:, :, None]  # (T, B, 1)
        finals: list[list[Tensor]] = [[] for _ in range(self.cell_class.state_size)]
        layer_input = x
        outs: list[Tensor] = []
        for layer in range(c.num_layers):
            outs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                cell = self.cell_class(*self._step_weights(layer, direction), **self._cell_options())
                cell.recurrent_mask = self._recurrent_mask(batch, x)
                step = cell if self._cell_wrapper is None else self._cell_wrapper(cell, layer, direction)
                seq = layer_input if direction == 0 else reverse_within(layer_input, lengths)
                xw = cell.project(seq.transpose(0, 1))  # (T, B, I) -> (T, B, G·H), one GEMM
                s0 = cell.initial_state(batch, like=x) if state0 is None else tuple(s[k] for s in state0)
                y, s = scan(step, xw, s0, mask)
                outs.append(y if direction == 0 else reverse_within(y, lengths))
                for i, t in enumerate(s):
                    finals[i].append(t)
            layer_input = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
            if layer < c.num_layers - 1 and self.training and c.dropout > 0:
                layer_input = F.dropout(layer_input, c.dropout, training=True)
        states = tuple(torch.stack(f, 0) for f in finals)  # (L·D, B, H), PyTorch's order
        return outs, layer_input, states

    def _recurrent_mask(self, batch: int, like: Tensor) -> Tensor | None:
        p = self.config.recurrent_dropout
        if not (self.training and p > 0):
            return None
        keep = torch.full((batch, self.config.hidden_size), 1 - p, dtype=like.dtype, device=like.device)
        return torch.bernoulli(keep) / (1 - p)

    # --- input checks ----------------------------------------------------------------------
    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expects a torch.Tensor, received {type(x).__name__}")
        if x.dim() != 3:
            raise ValueError(
                f"{name} expects input of shape (batch, time, features), received shape "
                f"{tuple(x.shape)}; a single sequence needs x.unsqueeze(0)"
            )
        if x.shape[-1] != self.config.input_size:
            raise ValueError(
                f"{name} was built with input_size={self.config.input_size}, but the input has "
                f"{x.shape[-1]} features (shape {tuple(x.shape)})"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{name} received an empty batch or sequence: shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"{name} expects a floating-point input, received {x.dtype}; use x.float()")

    def _check_state(self, initial_state: Any, batch: int) -> State | None:
        if initial_state is None:
            return None
        if isinstance(initial_state, Tensor):
            initial_state = (initial_state,)
        n = self.cell_class.state_size
        what = "(h0, c0)" if n == 2 else "h0"
        if len(initial_state) != n:
            raise ValueError(
                f"{type(self).__name__} expects initial_state={what}, received {len(initial_state)} tensor(s)"
            )
        want = (self.config.num_layers * self.num_directions, batch, self.config.hidden_size)
        for s in initial_state:
            if tuple(s.shape) != want:
                raise ValueError(
                    f"initial_state tensors must have shape (num_layers*directions, batch, hidden) "
                    f"= {want}, received {tuple(s.shape)}"
                )
        return tuple(initial_state)
