"""The conformance harness every layer and task model passes with one line (Keras run_layer_test).

It checks forward shapes, that a few training steps lower the loss, that save/load gives
identical predictions, and that a seed fixes the initial weights and outputs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab import io


def _first(out: Any) -> Tensor:
    return out[0] if isinstance(out, tuple | list) else out


def check_model(
    make_model: Callable[[], nn.Module],
    inputs: tuple[Any, ...],
    expected_shape: tuple[int, ...],
    *,
    loss_fn: Callable[[Any], Tensor] | None = None,
    steps: int = 20,
    lr: float = 1e-2,
) -> None:
    """Run the four conformance checks on the model ``make_model()`` builds; raise AssertionError on failure.

    ``inputs`` are the positional arguments of ``model(...)``; ``loss_fn(output)`` defaults to
    the mean square of the (first) output, which training must lower.
    """
    loss_fn = loss_fn or (lambda out: _first(out).pow(2).mean())

    torch.manual_seed(1234)
    model = make_model()
    torch.manual_seed(1234)
    twin = make_model()
    for (name, a), b in zip(model.state_dict().items(), twin.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"same seed, different initial values for {name}"

    model.eval()
    out = model(*inputs)
    shape = tuple(_first(out).shape)
    assert shape == tuple(expected_shape), f"output shape {shape}, expected {tuple(expected_shape)}"
    assert torch.equal(_first(out), _first(twin.eval()(*inputs))), "same weights, different outputs"

    with tempfile.TemporaryDirectory() as directory:
        io.save(model, directory, overwrite=True)
        loaded = io.load(directory)
        assert type(loaded) is type(model)
        assert not loaded.training, "a loaded model must be in eval mode"
        assert torch.equal(_first(loaded(*inputs)), _first(model(*inputs))), "save/load changed predictions"

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    first = None
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(*inputs))
        loss.backward()
        optimizer.step()
        first = float(loss.detach()) if first is None else first
    with torch.no_grad():
        final = float(loss_fn(model(*inputs)))
    assert final < first, f"training did not lower the loss: {first:.6g} -> {final:.6g}"


def outputs_and_gradients(
    layer: nn.Module, x: Tensor, *, lengths: Tensor | None = None, initial_state: Any = None
) -> tuple[list[Tensor], tuple[Tensor, ...]]:
    """A layer's outputs (all of them with return_state) and the gradients w.r.t. x and every parameter
    (sorted by name) of a fixed weighted sum of the outputs: what the two paths must agree on."""
    x = x.detach().clone().requires_grad_(True)
    out = layer(x, lengths=lengths, initial_state=initial_state)
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum((o * torch.linspace(-1, 1, o.numel(), device=o.device).view_as(o)).sum() for o in outs)
    grads = torch.autograd.grad(loss, [x, *[p for _, p in sorted(layer.named_parameters())]])
    return [o.detach() for o in outs], grads
