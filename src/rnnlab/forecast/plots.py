"""PNG plots for forecasts: the end of each series' history and its forecast."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rnnlab.data.series import SeriesData
from rnnlab.report import save_figure


def plot_forecast(data: SeriesData, forecasts: np.ndarray, horizon: int, path: str | Path, *,
                  freq: str | None = None, max_series: int = 4, history: int = 200,
                  quantiles: np.ndarray | None = None, levels: tuple[float, ...] = ()) -> Path:  # fmt: skip
    """History (last ``history`` steps) + forecast for the first ``max_series`` series, one panel each; with
    ``quantiles`` (S, H, K, Q) of the ``levels``, the outermost interval as a shaded band."""
    from rnnlab.forecast.frames import future_stamps

    n = min(max_series, len(data.series))
    fig, axes = plt.subplots(n, 1, figsize=(10, 3 * n), dpi=110, squeeze=False)
    for i, (ax, s, f) in enumerate(zip(axes[:, 0], data.series[:n], forecasts[:n], strict=False)):
        dated = freq is not None and np.issubdtype(np.asarray(s.times).dtype, np.datetime64)
        past = np.asarray(s.times) if dated else np.arange(len(s.values))
        future = future_stamps(s.times, horizon, freq) if dated else np.arange(len(s.values), len(s.values) + horizon)
        for k, name in enumerate(data.targets):
            ax.plot(past[-history:], s.values[-history:, k], label=f"{name} (history)")
            line = ax.plot(future, f[:, k], "--", label=f"{name} (forecast)")[0]
            if quantiles is not None and len(levels) > 1:
                ax.fill_between(future, quantiles[i, :, k, 0], quantiles[i, :, k, -1], color=line.get_color(),
                                alpha=0.2, label=f"{name} {levels[-1] - levels[0]:.0%} interval")  # fmt: skip
        ax.set_title(", ".join(data.targets) + (f" — series {s.id}" if len(data.series) > 1 else ""))
        ax.set_xlabel("time" if dated else "step")
        if dated:
            fig.autofmt_xdate()
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_comparison(summary: list[dict], path: str | Path, *, metric: str = "rmse", title: str = "") -> Path:
    """Bar chart of the mean metric over folds, ± one standard deviation, best first."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    names = [r["model"] for r in summary]
    means = [r[f"{metric}_mean"] for r in summary]
    stds = [r[f"{metric}_std"] for r in summary]
    colours = ["tab:blue" if n in ("dense", "rnn", "lstm", "gru") else "tab:grey" for n in names]
    ax.bar(names, means, yerr=stds, color=colours, capsize=4)
    ax.set_ylabel(f"{metric.upper()} (mean over folds)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)
