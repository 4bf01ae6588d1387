"""Which computation runs a recurrent layer's call: one plan, each backend saying what blocks it.

Three backends compute the same equations on the same parameters (``layer.rnn``'s tensors):

- ``equations``: the course's cells stepped by :func:`rnnlab.nn.recurrent.scan`; runs anything
  (variational recurrent dropout, cell hooks, every activation);
- ``fused``: PyTorch's oneDNN/cuDNN kernels, a padded batch packed or masked;
- ``native``: rnnlab's C++ CPU kernels (:mod:`rnnlab.nn.kernels`), LSTM and GRU in float32.

:func:`plan` chooses one under ``impl="auto"`` (the first backend of :func:`preference` that
nothing blocks) or checks a forced one, and says how a padded batch runs and why faster
backends were passed over. ``layer.plan(x)``, ``layer.path`` and ``layer.last_path`` report it.
Each rule lives in one place here: :func:`reads_c_n` is the only test of "an LSTM's c_n cannot
be read off the outputs", which blocks masking, the native kernels and weight drop's
direction-by-direction run.

>>> import torch
>>> from rnnlab.nn import GRU, LSTM
>>> plan(LSTM(3, 4, return_state=True), torch.randn(2, 5, 3), torch.tensor([5, 2])).lengths
'pack'
>>> plan(GRU(3, 4, reset_after=False), torch.randn(2, 5, 3)).reasons[-1]
"fused: reset_after=False (the course's GRU; cuDNN applies r after the product)"
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from rnnlab.nn.cells import State
    from rnnlab.nn.recurrent import Recurrent

    Run = tuple[list[Tensor], Tensor, State]

C_N = "an LSTM's c_n cannot be read off the outputs"


def reads_c_n(layer: Recurrent) -> bool:
    """The call must return an LSTM's final cell state, which only a kernel's own state output gives: masking
    (final states read off the outputs), the native kernels and per-direction weight drop cannot."""
    return layer.cell_class.state_size == 2 and layer.config.return_state


@dataclasses.dataclass(frozen=True)
class Plan:
    """``path``: the backend that runs; ``lengths``: how it runs a padded batch ("pack" or "mask": each
    direction apart over the padded batch, final states read off the outputs; None: no padding, or the
    equation loop, which masks each step); ``reasons``: why faster backends were passed over."""

    path: str
    lengths: str | None = None
    reasons: tuple[str, ...] = ()


class Backend:
    """One way to compute the layer: what blocks it (``blockers``; ``x`` None: whatever the input) and ``run``."""

    name: ClassVar[str]

    def blockers(self, layer: Recurrent, x: Tensor | None, training: bool) -> list[str]:
        return []

    def lengths(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, training: bool) -> str | None:
        return None

    def run(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, state0: State | None, how: str | None) -> Run:
        """(per-direction outputs of the top layer, their concat, final states); ``how``: the plan's ``lengths``."""
        raise NotImplementedError


class Equations(Backend):
    name = "equations"

    def run(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, state0: State | None, how: str | None) -> Run:
        return layer._run_equations(x, lengths, state0)


class Fused(Backend):
    name = "fused"

    def blockers(self, layer: Recurrent, x: Tensor | None, training: bool) -> list[str]:
        c = layer.config
        found = layer._fused_blockers()
        if training and c.recurrent_dropout > 0:
            found.append("recurrent_dropout > 0 (variational dropout needs the equation loop)")
        if training and c.weight_dropout > 0 and reads_c_n(layer):
            found.append(f"weight_dropout > 0 with an LSTM's return_state (each direction runs apart: {C_N})")
        return found

    def lengths(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, training: bool) -> str | None:
        """Packing or masking a padded batch (see benchmarks/recurrent.py). Masking runs the kernels over the
        whole padded batch, each direction apart (the backward one on sequences reversed within their lengths).
        On the project's 2-core CPU a packed LSTM leaves oneDNN (a packed training step cost 3.8x the
        full-length one), so masking wins except for GRU/RNN inference, where packing saves the padded work.
        cuDNN runs packed batches natively."""
        if training and layer.config.weight_dropout > 0:
            return "mask"  # the torch module holds its own weights: each direction runs on dropped ones
        if lengths is None:
            return None  # never pack full-length batches: packing costs 10-25 %
        strategy = layer.lengths_strategy
        if strategy == "mask" and reads_c_n(layer):
            raise ValueError(f"lengths_strategy='mask' cannot return an LSTM's c_n ({C_N}); use 'pack' or "
                             "return_state=False")  # fmt: skip
        if strategy != "auto":
            return strategy
        if reads_c_n(layer):
            return "pack"
        needs_grad = layer._needs_grad(x)
        if x.is_cuda:  # H200: masking 1.5-2.7x faster, except bidirectional inference (packing ~5 % faster)
            return "pack" if layer.config.bidirectional and not needs_grad else "mask"
        return "mask" if needs_grad or layer.cell_class.state_size == 2 else "pack"

    def run(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, state0: State | None, how: str | None) -> Run:
        if how == "mask":
            return layer._run_fused_masked(x, lengths, state0)
        return layer._run_fused(x, lengths, state0)


class Native(Fused):
    name = "native"

    def blockers(self, layer: Recurrent, x: Tensor | None, training: bool) -> list[str]:
        from rnnlab.nn import kernels

        found = []
        if layer.torch_class not in (nn.LSTM, nn.GRU):
            found.append("rnnlab's C++ kernels run LSTM and GRU layers")
        elif kernels.get() is None:
            found.append("rnnlab's C++ kernels are not built here (rnnlab kernels --build)")
        if reads_c_n(layer):
            found.append(f"return_state on an LSTM ({C_N})")
        if x is not None and x.is_cuda:
            found.append("CUDA tensors (the kernels are CPU ones)")
        if x is not None and x.dtype != torch.float32:
            found.append(f"{x.dtype} input (the kernels compute float32)")
        return found + [b for b in super().blockers(layer, x, training) if b not in found]

    def lengths(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, training: bool) -> str | None:
        return "mask"

    def run(self, layer: Recurrent, x: Tensor, lengths: Tensor | None, state0: State | None, how: str | None) -> Run:
        from rnnlab.nn import kernels

        return layer._run_fused_masked(x, lengths, state0, native=kernels.get())


BACKENDS: dict[str, Backend] = {b.name: b for b in (Native(), Fused(), Equations())}


def preference(layer: Recurrent) -> tuple[str, ...]:
    """The backends ``impl="auto"`` tries, fastest first: rnnlab's kernels for a GRU on the CPU (measured faster
    than PyTorch's at every shape of benchmarks/speed.py, training and inference); the LSTM keeps oneDNN's,
    faster than rnnlab's."""
    return ("native", "fused", "equations") if layer.torch_class is nn.GRU else ("fused", "equations")


def check_forced(layer: Recurrent, impl: str, x: Tensor | None, training: bool) -> Backend:
    """The backend ``impl`` names, or a ValueError saying what blocks it."""
    blocked = BACKENDS[impl].blockers(layer, x, training)
    if blocked:
        raise ValueError(f"impl={impl!r} cannot run this {type(layer).__name__}: {'; '.join(blocked)}. "
                         "Use impl='equations' or impl='auto'")  # fmt: skip
    return BACKENDS[impl]


def plan(layer: Recurrent, x: Tensor | None = None, lengths: Tensor | None = None) -> Plan:
    """The backend that runs ``layer(x, lengths)`` and how; ``x`` None: the path for any input (the native
    kernels, which depend on the input's device and dtype, are then left out of ``auto``)."""
    training = layer.training
    if layer.impl != "auto":
        chosen, reasons = check_forced(layer, layer.impl, x, training), []
    else:
        reasons = []
        for name in preference(layer):
            if name == "native" and x is None:
                continue
            blocked = BACKENDS[name].blockers(layer, x, training)
            if not blocked:
                chosen = BACKENDS[name]
                break
            reasons.append(f"{name}: {'; '.join(blocked)}")
    how = None if x is None else chosen.lengths(layer, x, lengths, training)
    return Plan(chosen.name, how, tuple(reasons))
