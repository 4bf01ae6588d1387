"""Vanishing and exploding gradients, measured: gradient norm by time lag, step-Jacobian spectra, the bound table.

The course's argument (Pascanu et al. 2013): the gradient reaching step k from step T is a
product of T−k step Jacobians ∂h_t/∂h_{t-1}; with σ' ≤ 1/4 it shrinks like (1/4)^n for a
sigmoid RNN, and unless W's largest singular value makes up for it, a vanilla RNN cannot
learn long dependencies. These functions measure that on real layers and models.

>>> import torch
>>> from rnnlab.nn import SimpleRNN
>>> rnn = SimpleRNN(1, 1, activation="identity")
>>> with torch.no_grad():
...     _ = rnn.rnn.weight_hh_l0.fill_(0.5); _ = rnn.rnn.weight_ih_l0.fill_(1.0)
>>> profile = gradient_by_lag(rnn, torch.randn(2, 5, 1))["input"]
>>> profile.mean.tolist()  # ∂h_T/∂x_{T-n} = w^n
[1.0, 0.5, 0.25, 0.125, 0.0625]
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.nn.cells import Cell, State
from rnnlab.nn.recurrent import Recurrent

Wrt = Literal["input", "hidden"]


@dataclasses.dataclass
class LagProfile:
    """Gradient norms by lag n = T−1−k (n = 0 is the last step): per-sample values and their summary."""

    name: str
    values: np.ndarray  # (B, T) per sample, indexed by lag

    @property
    def lags(self) -> np.ndarray:
        return np.arange(self.values.shape[1])

    @property
    def mean(self) -> np.ndarray:
        return self.values.mean(0)

    @property
    def std(self) -> np.ndarray:
        return self.values.std(0)

    @property
    def median(self) -> np.ndarray:
        return np.median(self.values, 0)

    def decay(self, lag: int) -> float:
        """mean norm at ``lag`` / mean norm at lag 0: how much of the gradient survives."""
        return float(self.mean[lag] / self.mean[0]) if self.mean[0] > 0 else float("nan")


def recurrent_layers(model: nn.Module) -> dict[str, Recurrent]:
    """The rnnlab recurrent layers inside ``model`` (itself included), by module name."""
    return {name or "layer": m for name, m in model.named_modules() if isinstance(m, Recurrent)}


@contextlib.contextmanager
def equation_path(model: nn.Module) -> Iterator[dict[str, Recurrent]]:
    """Run every recurrent layer of ``model`` on its equations (the only path with visible steps)."""
    layers = recurrent_layers(model)
    saved = {name: layer.impl for name, layer in layers.items()}
    try:
        for layer in layers.values():
            layer.impl = "equations"
        yield layers
    finally:
        for name, layer in layers.items():
            layer.impl = saved[name]


def _default_target(out: Tensor | tuple, generator: torch.Generator) -> Tensor:
    """y_T · v for a fixed random unit vector v: the last step's output seen along one direction."""
    y = out[0] if isinstance(out, tuple) else out
    if y.dim() == 3:
        y = y[:, -1]  # (B, T, K) -> (B, K)
    v = torch.randn(y.shape[-1], generator=generator).to(y)
    return (y * (v / v.norm())).sum()


def gradient_by_lag(
    model: nn.Module,
    x: Tensor,
    *,
    wrt: Wrt = "input",
    target: Callable[[Tensor | tuple], Tensor] | None = None,
    seed: int = 0,
) -> dict[str, LagProfile]:
    """Norm of the gradient of the last step's output (or of ``target(output)``) by time lag.

    ``wrt="input"``: ‖∂target/∂x_k‖ for every step k, on whatever path the layers run
    (fused included); one profile named ``"input"``. ``wrt="hidden"``: ‖∂target/∂h_k‖ for the
    hidden state of every layer and direction (``"lstm/layer1/backward"``), on the equation
    path (switched to for the measurement); the lag counts steps in each direction's own
    processing order. The default target is y_T·v, v a fixed random unit vector (seeded), so
    each sample's gradient is one vector–Jacobian product; pass a loss as ``target`` instead
    to see what training sees. Returns per-sample values averaged by :class:`LagProfile`.
    """
    generator = torch.Generator().manual_seed(seed)
    target = target or (lambda out: _default_target(out, generator))
    if wrt == "input":
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(target(model(x)), x)
        norms = grad.norm(dim=-1).flip(1)  # (B, T), by lag
        return {"input": LagProfile("input", norms.detach().cpu().numpy())}
    if wrt != "hidden":
        raise ValueError(f"wrt must be 'input' or 'hidden', received {wrt!r}")
    records: dict[str, list[Tensor]] = {}
    with equation_path(model) as layers, contextlib.ExitStack() as stack:
        if not layers:
            raise ValueError(f"{type(model).__name__} has no rnnlab recurrent layer to look inside")
        for name, layer in layers.items():
            stack.enter_context(layer.wrap_cells(_state_recorder(name, layer, records)))
        scalar = target(model(x))
    names = list(records)
    steps = [h for name in names for h in records[name]]
    grads = torch.autograd.grad(scalar, steps, allow_unused=True)
    out, i = {}, 0
    for name in names:
        n = len(records[name])
        norms = [torch.zeros(x.shape[0]) if g is None else g.norm(dim=-1).detach().cpu() for g in grads[i : i + n]]
        i += n
        out[name] = LagProfile(name, torch.stack(norms[::-1], 1).numpy())  # processing order -> lag
    return out


def step_key(name: str, layer: Recurrent, index: int, direction: int) -> str:
    """How the diagnostics name one layer/direction: ``name``, or ``name/layer1/backward`` when there are several."""
    if layer.config.num_layers == 1 and not layer.config.bidirectional:
        return name
    return f"{name}/layer{index}/{'backward' if direction else 'forward'}"


def _state_recorder(name: str, layer: Recurrent, records: dict[str, list[Tensor]]):
    def wrap(cell: Cell, index: int, direction: int):
        key = step_key(name, layer, index, direction)
        records[key] = []

        def step(xw_t: Tensor, state: State) -> tuple[Tensor, State]:
            y, new = cell(xw_t, state)
            records[key].append(new[0])  # h_t, as the next step and the output use it
            return y, new

        return step

    return wrap


@dataclasses.dataclass
class JacobianSpectrum:
    """Largest singular values of the step Jacobians ∂s_t/∂s_{t-1} and of their products by lag."""

    step_norms: np.ndarray  # (B, T): ‖∂s_t/∂s_{t-1}‖₂ at step t (state s = h, or [h; c] for an LSTM)
    product_norms: np.ndarray  # (B, T): ‖∂s_{T-1}/∂s_{T-1-n}‖₂ by lag n

    @property
    def mean_step_norm(self) -> np.ndarray:
        return self.step_norms.mean(0)

    @property
    def mean_product_norm(self) -> np.ndarray:
        return self.product_norms.mean(0)


def jacobian_spectrum(layer: Recurrent, x: Tensor, *, index: int = 0, direction: int = 0) -> JacobianSpectrum:
    """Spectral norms of the step Jacobians of one layer/direction along the sequences ``x`` (B, T, I).

    ``index`` picks the stacked layer, ``direction`` the direction (1 = backward); the input
    to a stacked layer is what the layers below produce. For an LSTM the state is [h; c], so
    the Jacobian is 2H × 2H and includes the cell state's near-identity path.
    """
    inputs: list[Tensor] = []  # xw_t of every step of the chosen layer/direction
    states: list[State] = []  # the state each of those steps starts from
    cells: list[Cell] = []

    def wrap(cell: Cell, layer_index: int, dir_: int):
        if (layer_index, dir_) != (index, direction):
            return cell
        cells.append(cell)

        def step(xw_t: Tensor, state: State) -> tuple[Tensor, State]:
            states.append(tuple(s.detach() for s in state))
            inputs.append(xw_t.detach())
            return cell(xw_t, state)

        return step

    with torch.no_grad(), equation_path(layer), layer.wrap_cells(wrap):
        layer(x)
    cell = cells[0]
    sizes = [s.shape[-1] for s in states[0]]

    def state_map(flat: Tensor, xw_t: Tensor) -> Tensor:  # one sample: (S,) -> (S,)
        state = tuple(part[None] for part in flat.split(sizes))
        _, new = cell(xw_t[None], state)
        return torch.cat([s[0] for s in new])

    jac = torch.func.vmap(torch.func.jacrev(state_map), in_dims=(0, 0))
    step_jacobians = []
    for state, xw_t in zip(states, inputs, strict=True):
        flat = torch.cat(list(state), dim=-1)  # (B, S)
        step_jacobians.append(jac(flat, xw_t))  # (B, S, S)
    J = torch.stack(step_jacobians, 1)  # (B, T, S, S)
    step_norms = torch.linalg.matrix_norm(J, ord=2)
    product = torch.eye(J.shape[-1]).expand(J.shape[0], -1, -1)
    products = []
    for t in range(J.shape[1] - 1, -1, -1):  # ∂s_{T-1}/∂s_{t-1} = J_{T-1} ··· J_t
        products.append(torch.linalg.matrix_norm(product, ord=2))
        product = product @ J[:, t]
    return JacobianSpectrum(step_norms.detach().numpy(), torch.stack(products, 1).detach().numpy())


def bounds_table(powers: tuple[int, ...] = (1, 2, 4, 8, 16, 50)) -> list[dict[str, str]]:
    """(1/4)^n exactly: the most a product of n sigmoid derivatives can be (see :func:`derivative_bounds`).

    >>> [row["exact"] for row in bounds_table((1, 2, 16))]
    ['1/4', '1/16', '1/4294967296']
    >>> bounds_table((16,))[0]["decimal"]
    '2.3283064365386962890625e-10'
    """
    out = []
    for n in powers:
        value = Fraction(1, 4) ** n
        out.append({"quantity": f"0.25^{n}", "exact": str(value), "decimal": _exact_decimal(value)})
    return out


def derivative_bounds() -> list[dict[str, str]]:
    """max σ'(a) = 1/4 and max tanh'(a) = 1, both at a = 0, with the values measured by autograd."""
    a = torch.linspace(-6, 6, 12001, dtype=torch.float64, requires_grad=True)
    (ds,) = torch.autograd.grad(torch.sigmoid(a).sum(), a)
    (dt,) = torch.autograd.grad(torch.tanh(a).sum(), a)
    return [
        {"function": "sigmoid", "max_derivative": "1/4", "measured": f"{ds.max().item():.6f}", "at": "0"},
        {"function": "tanh", "max_derivative": "1", "measured": f"{dt.max().item():.6f}", "at": "0"},
    ]


def _exact_decimal(value: Fraction) -> str:
    """A power of 1/4 has a finite decimal expansion: write all of it, in scientific notation."""
    num, den = value.numerator, value.denominator
    exponent = 0
    while num < den:
        num *= 10
        exponent -= 1
    digits = []
    remainder = num
    for _ in range(200):
        digits.append(str(remainder // den))
        remainder = (remainder % den) * 10
        if remainder == 0:
            break
    if -3 <= exponent < 0:  # 0.25, 0.0625, 0.00390625: plain decimals read better
        return "0." + "0" * (-exponent - 1) + "".join(digits)
    mantissa = digits[0] + ("." + "".join(digits[1:]) if len(digits) > 1 else "")
    return f"{mantissa}e{exponent:+03d}" if exponent else mantissa
