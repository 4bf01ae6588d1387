"""Forecast errors as the M4 guide and the forecasting papers define them (Makridakis et al. 2020).

>>> y, f = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
>>> mae(y, f), mse(y, f), round(smape(y, f), 4)
(1.0, 1.6666666666666667, 35.5556)
"""

from __future__ import annotations

import numpy as np


def mae(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(f))))


def mse(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean((np.asarray(y) - np.asarray(f)) ** 2))


def rmse(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.sqrt(mse(y, f)))


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """Symmetric MAPE in percent: mean of 200·|y − f| / (|y| + |f|) (M4's definition)."""
    y, f = np.asarray(y, dtype=np.float64), np.asarray(f, dtype=np.float64)
    return float(np.mean(200.0 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def mase(y: np.ndarray, f: np.ndarray, history: np.ndarray, period: int) -> float:
    """MAE scaled by the in-sample MAE of the seasonal naive forecast on ``history`` (M4: m = 24 for hourly).

    >>> round(mase(np.array([3.0]), np.array([2.0]), np.array([1.0, 2.0, 3.0, 4.0]), period=1), 6)
    1.0
    """
    history = np.asarray(history, dtype=np.float64)
    if len(history) <= period:
        raise ValueError(f"MASE needs a history longer than the period {period}, received {len(history)} values")
    scale = np.mean(np.abs(history[period:] - history[:-period]))
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(f))) / scale)


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average against Naive2: (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)
