"""Compare baselines and networks by time-series cross-validation on one series, in the series' own units.

Each fold refits the scaler on its training part and every model on its training windows
(the last 10 % of them for early stopping), then scores the fold's test windows: MAE, RMSE
and sMAPE in the original units. ``log=True`` fits on log values (multiplicative seasonality,
as AirPassengers) and scores the exponentiated forecasts.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from rnnlab.data.scaling import Standardizer
from rnnlab.data.splits import WindowSplit
from rnnlab.data.windows import WindowSpec, make_windows
from rnnlab.forecast.baselines import LinearBaseline, last_value, repeat_last_window, seasonal_naive
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.metrics import mae, rmse, smape
from rnnlab.training import TrainConfig

BASELINES: tuple[str, ...] = ("last_value", "repeat_window", "seasonal_naive", "linear")
NETWORKS: tuple[str, ...] = ("dense", "rnn", "lstm", "gru")


def airpassengers_path() -> Path:
    """The bundled Box & Jenkins airline passengers series (monthly, 1949–1960, thousands)."""
    return Path(str(resources.files("rnnlab.forecast") / "data" / "airpassengers.csv"))


def compare(
    values: np.ndarray, *, models: Sequence[str], input_width: int, horizon: int, splitter: WindowSplit,
    period: int, log: bool = False, hidden: int = 32, epochs: int = 100, lr: float = 1e-2, seed: int = 0,
) -> list[dict]:  # fmt: skip
    """Per-fold rows {model, fold, mae, rmse, smape, windows} for a (T, 1) series."""
    unknown = [m for m in models if m not in BASELINES + NETWORKS]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose among {list(BASELINES + NETWORKS)}")
    if log and (values <= 0).any():  # log(0) = -inf, then "every value must be finite (fill missing values)"
        step = int(np.argmax((values <= 0).ravel()))
        raise ValueError(f"log (--log, the default) needs values > 0; step {step} holds {values.ravel()[step]:g}: "
                         "pass --no-log (log=False)")  # fmt: skip
    series = np.log(values) if log else values.astype(np.float64)
    spec = WindowSpec.forecast(input_width, horizon)
    rows = []
    for k, (train_idx, test_idx) in enumerate(splitter.split(len(series), spec)):
        scaler = Standardizer.fit([series[: train_idx[-1] + spec.total_size]])
        x, y = make_windows(scaler.transform(0, series), spec, inputs=[0], labels=[0])
        actual = _units(scaler, y[test_idx], log)
        for name in models:
            pred = _forecast(name, x, y, train_idx, test_idx, horizon, period, hidden, epochs, lr, seed, input_width)
            f = _units(scaler, pred, log)
            rows.append({"model": name, "fold": k, "mae": mae(actual, f), "rmse": rmse(actual, f),
                         "smape": smape(actual, f), "windows": len(test_idx)})  # fmt: skip
    return rows


def _forecast(name, x, y, train_idx, test_idx, horizon, period, hidden, epochs, lr, seed, width) -> np.ndarray:
    xt = x[test_idx]
    if name == "last_value":
        return last_value(xt, horizon, [0])
    if name == "repeat_window":
        return repeat_last_window(xt, horizon, [0])
    if name == "seasonal_naive":
        return seasonal_naive(xt, horizon, [0], period=period)
    if name == "linear":
        return LinearBaseline(alpha=1e-2).fit(x[train_idx], y[train_idx]).predict(xt)
    config = ForecastConfig(model=name, input_width=width, horizon=horizon, hidden_size=hidden, revin=name != "dense")
    forecaster = Forecaster(config, TrainConfig(max_epochs=epochs, lr=lr, batch_size=16, patience=10, seed=seed))
    n_val = max(1, len(train_idx) // 10)
    tr, va = train_idx[:-n_val], train_idx[-n_val:]
    forecaster.fit_windows(x[tr], y[tr], x[va], y[va])
    return forecaster.predict_windows(xt)


def _units(scaler: Standardizer, z: np.ndarray, log: bool) -> np.ndarray:
    out = scaler.inverse(0, z)
    return np.exp(out) if log else out


def summarise(rows: list[dict]) -> list[dict]:
    """Mean ± std over folds per model, best first (by mean RMSE)."""
    out = []
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        row: dict = {"model": name}
        for m in ("mae", "rmse", "smape"):
            row[f"{m}_mean"] = float(np.mean([r[m] for r in mine]))
            row[f"{m}_std"] = float(np.std([r[m] for r in mine]))
        out.append(row)
    return sorted(out, key=lambda r: r["rmse_mean"])
