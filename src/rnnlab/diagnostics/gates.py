"""Gate statistics: how open, shut or saturated the LSTM/GRU gates are over a batch.

A forget gate near 1 keeps the cell state (and its gradient) alive over many steps; a
saturated gate (near 0 or 1) has σ' ≈ 0 and passes almost no gradient to its own weights.

>>> import torch
>>> from rnnlab.nn import LSTM
>>> stats = gate_statistics(LSTM(3, 8), torch.randn(4, 10, 3))
>>> sorted(stats["layer"])
['f', 'g', 'i', 'o']
>>> 0.0 <= stats["layer"]["f"]["near_1"] <= 1.0
True
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn

from rnnlab.diagnostics.gradients import equation_path, step_key
from rnnlab.nn.cells import Cell, State

SIGMOID_GATES = {"i", "f", "o", "r", "z"}  # the rest (g, n) are tanh candidates in [-1, 1]


def gate_statistics(model: nn.Module, x: Tensor, *, threshold: float = 0.9) -> dict[str, dict[str, dict[str, float]]]:
    """For every recurrent layer/direction of ``model`` and every gate, over all samples, steps and units:
    mean, std, and the fractions near 0 (< 1 − threshold) and near 1 (> threshold) for sigmoid
    gates, or saturated (|v| > threshold) for tanh candidates. Vanilla RNN layers have no gates.
    """
    gates: dict[str, dict[str, list[Tensor]]] = {}
    with torch.no_grad(), equation_path(model) as layers, contextlib.ExitStack() as stack:
        for name, layer in layers.items():

            def wrap(cell: Cell, index: int, direction: int, name=name, layer=layer):
                key = step_key(name, layer, index, direction)
                gates[key] = {}

                def step(xw_t: Tensor, state: State):
                    for gate, value in cell.gates(xw_t, state).items():
                        gates[key].setdefault(gate, []).append(value)
                    return cell(xw_t, state)

                return step

            stack.enter_context(layer.wrap_cells(wrap))
        model(x)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, by_gate in gates.items():
        out[key] = {}
        for gate, values in by_gate.items():
            v = torch.stack(values)
            stats = {"mean": v.mean().item(), "std": v.std().item()}
            if gate in SIGMOID_GATES:
                stats["near_0"] = (v < 1 - threshold).float().mean().item()
                stats["near_1"] = (v > threshold).float().mean().item()
            else:
                stats["saturated"] = (v.abs() > threshold).float().mean().item()
            out[key][gate] = stats
    return out
