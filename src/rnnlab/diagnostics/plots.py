"""PNG pictures of the lab: gradient norm by lag (log scale), and final error by lag length per cell."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt
import numpy as np

from rnnlab.diagnostics.gradients import LagProfile
from rnnlab.report import save_figure

COLOURS = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green", "rnn+residual": "tab:orange"}


def plot_gradient_by_lag(curves: Mapping[tuple[str, str], LagProfile], path: str | Path, *, title: str) -> Path:
    """One line per (cell, stage): mean gradient norm by lag, the 25–75 % band shaded; log y axis."""
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for (cell, stage), profile in curves.items():
        lags = profile.lags
        style = "-" if stage == "init" else "--"
        colour = COLOURS.get(cell)
        mean = np.maximum(profile.mean, 1e-45)
        ax.plot(lags, mean, style, color=colour, label=f"{cell} ({stage})")
        low, high = np.percentile(profile.values, [25, 75], axis=0)
        ax.fill_between(lags, np.maximum(low, 1e-45), np.maximum(high, 1e-45), color=colour, alpha=0.12)
    ax.set_yscale("log")
    ax.set_xlabel("lag n = T − 1 − k (steps back from the last output)")
    ax.set_ylabel("‖∂ output_T / ∂ state_k‖ (mean over the batch)")
    return _save(fig, ax, path, title)


def plot_memory(rows: Sequence[Mapping], path: str | Path, *, metric: str, baseline: float, title: str) -> Path:
    """Final test error against the lag T, one line per cell, with the trivial baseline."""
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for cell in dict.fromkeys(r["cell"] for r in rows):
        mine = sorted((r for r in rows if r["cell"] == cell), key=lambda r: r["length"])
        ax.plot([r["length"] for r in mine], [r[metric] for r in mine], "o-", color=COLOURS.get(cell), label=cell)
    ax.axhline(baseline, color="grey", linestyle=":", label=f"trivial baseline ({baseline:.3g})")
    if metric.endswith("mse"):
        ax.set_yscale("log")
    ax.set_xscale("log")
    lengths = sorted({r["length"] for r in rows})
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.set_xlabel("lag T (sequence length)")
    ax.set_ylabel(metric.replace("_", " "))
    return _save(fig, ax, path, title)


def _save(fig: plt.Figure, ax: plt.Axes, path: str | Path, title: str) -> Path:
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)
