"""The three recurrent cells, one line per course equation (Elman 1990; Hochreiter & Schmidhuber 1997; Cho et al. 2014).

A cell is bound to one layer/direction's parameters, stored in PyTorch's layout
(``weight_ih``: (G·H, I), ``weight_hh``: (G·H, H), ``bias_ih``, ``bias_hh``: (G·H,), gate
order i|f|g|o for the LSTM and r|z|n for the GRU), so the same tensors also run on the
fused oneDNN/cuDNN kernels. ``W·[h_{t-1}, x_t] + b`` is computed as
``W_ih·x_t + W_hh·h_{t-1} + b``: the ``W_ih·x_t`` half of every step has no recurrence,
so :meth:`project` does it for the whole sequence in one matrix product, and
``cell(xw_t, state) -> (y_t, state)`` does the rest, one time step.

>>> import torch
>>> H, I = 2, 3
>>> w = dict(weight_ih=torch.full((4 * H, I), 0.1), weight_hh=torch.full((4 * H, H), 0.1),
...          bias_ih=torch.zeros(4 * H), bias_hh=torch.zeros(4 * H))
>>> cell = LSTMCell(**w)
>>> x_t = torch.ones(1, I)
>>> h, (h, c) = cell.step(x_t, cell.initial_state(1))
>>> round(h[0, 0].item(), 6)  # σ(.3)·tanh(σ(.3)·tanh(.3)) with every gate at W·x = 0.3
0.095241
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import torch
from torch import Tensor

from rnnlab.nn.gemm import linear, onednn_applies

Activation = Literal["tanh", "relu", "sigmoid", "identity"]
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "identity": lambda a: a,
}
State = tuple[Tensor, ...]


class Cell:
    """What every cell shares: its parameters, the input projection and the state shape."""

    n_gates: ClassVar[int] = 1  # G: the rows of W are G·H
    state_size: ClassVar[int] = 1  # tensors in the state: 1 (h) or 2 (h, c)

    def __init__(
        self,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor,
        bias_hh: Tensor,
        *,
        recurrent_mask: Tensor | None = None,
    ) -> None:
        self.weight_ih, self.weight_hh = weight_ih, weight_hh
        self.bias_ih, self.bias_hh = bias_ih, bias_hh
        self.hidden_size = weight_hh.shape[1]
        # Variational recurrent dropout (Gal & Ghahramani 2016): one (B, H) mask per sequence,
        # applied to h_{t-1} where it enters the recurrent product.
        self.recurrent_mask = recurrent_mask
        self._transposed: dict[str, Tensor] = {}

    def recurrent(self, name: str, h: Tensor, *, bias: Tensor | None = None, add: Tensor | None = None) -> Tensor:
        """``h·Wᵀ (+ bias + add)`` with W the cell's attribute ``name`` (a recurrent weight).

        The products run on :func:`rnnlab.nn.gemm.linear`; the transposed copy of W its
        backward pass needs is made once per sequence, not at every step.
        """
        weight = getattr(self, name)
        weight_t = None
        if onednn_applies(h):
            if name not in self._transposed:
                self._transposed[name] = weight.detach().t().contiguous()
            weight_t = self._transposed[name]
        return linear(h, weight, bias, add=add, weight_t=weight_t)

    def input_bias(self) -> Tensor:
        """Biases that can be added once to the input projection (all of them by default)."""
        return self.bias_ih + self.bias_hh

    def project(self, x: Tensor) -> Tensor:
        """W_ih·x_t + b for every step at once: (..., I) -> (..., G·H)."""
        flat = x.reshape(-1, x.shape[-1])
        return linear(flat, self.weight_ih, self.input_bias()).view(*x.shape[:-1], -1)

    def initial_state(self, batch: int, *, like: Tensor | None = None) -> State:
        kw = {} if like is None else {"dtype": like.dtype, "device": like.device}
        return tuple(torch.zeros(batch, self.hidden_size, **kw) for _ in range(self.state_size))

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """One step from the raw input x_t (B, I): the cell as a student would call it."""
        return self(self.project(x_t), state)

    def _recurrent_input(self, h_prev: Tensor) -> Tensor:
        return h_prev if self.recurrent_mask is None else h_prev * self.recurrent_mask

    def gates(self, xw_t: Tensor, state: State) -> dict[str, Tensor]:
        """The gate activations of one step, by name (none for the vanilla cell)."""
        return {}

    def __call__(self, xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        raise NotImplementedError


class RNNCell(Cell):
    """Vanilla (Elman) cell: ``h_t = F(W·[h_{t-1}, x_t] + b)``, F in {tanh, relu, sigmoid, identity}.

    ``residual=True`` adds a skip connection across time, ``h_t = h_{t-1} + F(W·[h_{t-1}, x_t] + b)``:
    ∂h_t/∂h_{t-1} = I + diag(F')·W_hh keeps an identity path for the gradient, as the LSTM's
    cell state does (one of the course's remedies for vanishing gradients).
    """

    def __init__(self, *args: Tensor, activation: Activation = "tanh", residual: bool = False, **kw) -> None:
        super().__init__(*args, **kw)
        self.F = ACTIVATIONS[activation]
        self.residual = residual

    def __call__(self, xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h_prev,) = state
        a = self.recurrent("weight_hh", self._recurrent_input(h_prev), add=xw_t)  # W·[h_{t-1}, x_t] + b
        h = self.F(a)  # h_t = F(W·[h_{t-1}, x_t] + b)
        if self.residual:
            h = h_prev + h  # h_t = h_{t-1} + F(W·[h_{t-1}, x_t] + b)
        return h, (h,)


class LSTMCell(Cell):
    """LSTM cell: gates i, f, o and candidate c~; ``c_t = f⊙c_{t-1} + i⊙c~``, ``h_t = o⊙tanh(c_t)``."""

    n_gates = 4
    state_size = 2

    def gates(self, xw_t: Tensor, state: State) -> dict[str, Tensor]:
        a = self.recurrent("weight_hh", self._recurrent_input(state[0]), add=xw_t)  # W·[h_{t-1}, x_t] + b, 4 gates
        a_i, a_f, a_g, a_o = a.chunk(4, 1)
        i = torch.sigmoid(a_i)  # i_t = σ(W_i·[h_{t-1}, x_t] + b_i)      input gate
        f = torch.sigmoid(a_f)  # f_t = σ(W_f·[h_{t-1}, x_t] + b_f)      forget gate
        g = torch.tanh(a_g)  # c~_t = tanh(W_c·[h_{t-1}, x_t] + b_c)  candidate
        o = torch.sigmoid(a_o)  # o_t = σ(W_o·[h_{t-1}, x_t] + b_o)      output gate
        return {"i": i, "f": f, "g": g, "o": o}

    def __call__(self, xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        c_prev = state[1]
        i, f, g, o = self.gates(xw_t, state).values()
        c = f * c_prev + i * g  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ c~_t
        h = o * torch.tanh(c)  # h_t = o_t ⊙ tanh(c_t)
        return h, (h, c)


class GRUCell(Cell):
    """GRU cell with reset gate r and update gate z.

    ``reset_after=False`` is the course's form (Cho et al. 2014): the reset gate multiplies
    the previous state *before* the recurrent product,
    ``h~_t = tanh(W_n·[r_t ⊙ h_{t-1}, x_t] + b_n)``. ``reset_after=True`` is the cuDNN/PyTorch
    form (and Keras' default): it multiplies the product's result,
    ``h~_t = tanh(W_in·x_t + b_in + r_t ⊙ (W_hn·h_{t-1} + b_hn))``; only this form runs on the
    fused kernels, and it needs ``b_hn`` separate from ``b_in``. Both forms have the same
    parameter shapes but compute different functions from them.

    The update gate here is PyTorch's and Keras' ``z``, the share of the *old* state kept:
    ``h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h~_t``. The course writes
    ``h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h~_t`` with its z equal to 1 − ours (σ(−a) = 1 − σ(a):
    the same model with the z rows of W and b negated). Keeping PyTorch's sign lets one set
    of weights run on both paths.
    """

    n_gates = 3

    def __init__(self, *args: Tensor, reset_after: bool = True, **kw) -> None:
        super().__init__(*args, **kw)
        self.reset_after = reset_after
        H = self.hidden_size
        if reset_after:
            # b_hn stays inside r ⊙ (...): only the r and z rows of b_hh fold into the projection
            self.b_hh_n = torch.cat([torch.zeros_like(self.bias_hh[: 2 * H]), self.bias_hh[2 * H :]])
        else:
            self.weight_hh_rz = self.weight_hh[: 2 * H]  # (2H, H)
            self.weight_hh_n = self.weight_hh[2 * H :]  # (H, H)

    def input_bias(self) -> Tensor:
        if not self.reset_after:
            return self.bias_ih + self.bias_hh
        H = self.hidden_size
        return self.bias_ih + torch.cat([self.bias_hh[: 2 * H], torch.zeros_like(self.bias_hh[2 * H :])])

    def gates(self, xw_t: Tensor, state: State) -> dict[str, Tensor]:
        """r, z and the candidate n (h~) of one step."""
        hr = self._recurrent_input(state[0])
        x_r, x_z, x_n = xw_t.chunk(3, 1)
        if self.reset_after:
            a_r, a_z, a_n = self.recurrent("weight_hh", hr, bias=self.b_hh_n).chunk(3, 1)  # W_h·h_{t-1} (+ b_hn)
            r = torch.sigmoid(x_r + a_r)  # r_t = σ(W_r·[h_{t-1}, x_t] + b_r)
            z = torch.sigmoid(x_z + a_z)  # z_t = σ(W_z·[h_{t-1}, x_t] + b_z)
            n = torch.tanh(x_n + r * a_n)  # h~_t = tanh(W_in·x_t + b_in + r_t ⊙ (W_hn·h_{t-1} + b_hn))
        else:
            a_r, a_z = self.recurrent("weight_hh_rz", hr).chunk(2, 1)
            r = torch.sigmoid(x_r + a_r)  # r_t = σ(W_r·[h_{t-1}, x_t] + b_r)
            z = torch.sigmoid(x_z + a_z)  # z_t = σ(W_z·[h_{t-1}, x_t] + b_z)
            a_n = self.recurrent("weight_hh_n", r * hr, add=x_n)  # W_n·[r_t ⊙ h_{t-1}, x_t] + b_n
            n = torch.tanh(a_n)  # h~_t = tanh(W_n·[r_t ⊙ h_{t-1}, x_t] + b_n)
        return {"r": r, "z": z, "n": n}

    def __call__(self, xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h_prev,) = state
        _, z, n = self.gates(xw_t, state).values()
        h = z * h_prev + (1 - z) * n  # h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h~_t
        return h, (h,)
