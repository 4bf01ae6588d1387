"""The M4 competition's benchmarks and scoring: seasonality test, Naive2, seasonal naive, sMAPE / MASE / OWA.

Naive2 as the M4 guide defines it (Makridakis et al. 2020, the organisers' R code): if the
autocorrelation at lag m exceeds its 90 % limit, divide the series by the seasonal indices
of a classical multiplicative decomposition, forecast the last value, and multiply the
indices back; otherwise forecast the last value.

>>> x = np.tile([1.0, 2.0, 3.0, 2.0], 12) * np.linspace(10, 12, 48)
>>> seasonality_test(x, 4)
True
>>> naive2(x, 4, 4).round(2).tolist()
[11.99, 23.95, 35.97, 24.0]
"""

from __future__ import annotations

import numpy as np

from rnnlab.metrics import mase, owa, smape


def acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_1..r_max_lag, as R's acf (mean removed, biased denominator)."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    denom = np.dot(x, x)
    return np.array([np.dot(x[k:], x[:-k]) / denom for k in range(1, max_lag + 1)])


def seasonality_test(x: np.ndarray, period: int) -> bool:
    """|r_m| > 1.645 · sqrt((1 + 2 Σ_{k<m} r_k²) / n), with at least 3 seasons of data."""
    if period <= 1 or len(x) < 3 * period:
        return False
    r = acf(x, period)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[: period - 1] ** 2)) / len(x))
    return bool(abs(r[period - 1]) > limit)


def seasonal_indices(x: np.ndarray, period: int) -> np.ndarray:
    """Classical multiplicative decomposition (R's decompose): the ``period`` indices, normalised to mean 1,
    index i belonging to the positions t with t % period == i."""
    x = np.asarray(x, dtype=np.float64)
    # a 2×m moving average for an even period m (half weights at both ends), a plain one for odd m
    weights = np.r_[0.5, np.ones(period - 1), 0.5] / period if period % 2 == 0 else np.ones(period) / period
    trend = np.convolve(x, weights, mode="valid")  # centred moving average
    offset = (len(weights) - 1) // 2
    ratio = x[offset : offset + len(trend)] / trend
    positions = (np.arange(len(trend)) + offset) % period
    figure = np.array([ratio[positions == i].mean() for i in range(period)])
    return figure / figure.mean()


def naive2(x: np.ndarray, horizon: int, period: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if not seasonality_test(x, period):
        return np.repeat(x[-1], horizon)
    index = seasonal_indices(x, period)
    n = len(x)
    deseasonalised_last = x[-1] / index[(n - 1) % period]
    return deseasonalised_last * index[(n + np.arange(horizon)) % period]


def seasonal_naive_forecast(x: np.ndarray, horizon: int, period: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[len(x) - period + (np.arange(horizon) % period)]


def score(histories: list[np.ndarray], actuals: list[np.ndarray], forecasts: list[np.ndarray],
          naive2_forecasts: list[np.ndarray], period: int) -> dict[str, float]:  # fmt: skip
    """Mean sMAPE and MASE over the series, and OWA against Naive2 scored the same way."""
    s = np.mean([smape(a, f) for a, f in zip(actuals, forecasts, strict=True)])
    m = np.mean([mase(a, f, h, period) for h, a, f in zip(histories, actuals, forecasts, strict=True)])
    s2 = np.mean([smape(a, f) for a, f in zip(actuals, naive2_forecasts, strict=True)])
    m2 = np.mean([mase(a, f, h, period) for h, a, f in zip(histories, actuals, naive2_forecasts, strict=True)])
    return {"smape": float(s), "mase": float(m), "owa": owa(s, m, s2, m2)}
