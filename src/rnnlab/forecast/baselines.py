"""Forecasting baselines on input windows: last value, repeat the last window, seasonal naive, linear (least squares).

Every function maps inputs (N, W, C) to forecasts (N, H, len(targets)); ``targets`` are
column indices into C. A recurrent model that does not beat these is not worth its cost.

>>> x = np.arange(12, dtype=np.float32).reshape(1, 12, 1)  # one window 0..11
>>> last_value(x, 3, [0])[0, :, 0].tolist(), seasonal_naive(x, 5, [0], period=4)[0, :, 0].tolist()
([11.0, 11.0, 11.0], [8.0, 9.0, 10.0, 11.0, 8.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def last_value(x: np.ndarray, horizon: int, targets: Sequence[int]) -> np.ndarray:
    """Every future step equals the last observed one."""
    return np.repeat(x[:, -1:, list(targets)], horizon, axis=1)


def repeat_last_window(x: np.ndarray, horizon: int, targets: Sequence[int]) -> np.ndarray:
    """The next ``horizon`` steps repeat the last ``horizon`` inputs (needs input_width >= horizon)."""
    if x.shape[1] < horizon:
        raise ValueError(f"repeat_last_window needs input_width >= horizon ({horizon}), received {x.shape[1]}")
    return x[:, -horizon:, list(targets)].copy()


def seasonal_naive(x: np.ndarray, horizon: int, targets: Sequence[int], *, period: int) -> np.ndarray:
    """y_{t+k} = y_{t+k-period·ceil(k/period)}: the last season, repeated (needs input_width >= period)."""
    width = x.shape[1]
    if width < period:
        raise ValueError(f"seasonal_naive needs input_width >= period ({period}), received {width}")
    index = width - period + (np.arange(horizon) % period)
    return x[:, index][:, :, list(targets)].copy()


class LinearBaseline:
    """Ridge least squares from the flattened input window to the whole horizon (one matrix, closed form)."""

    def __init__(self, alpha: float = 1e-3) -> None:
        self.alpha = alpha
        self.weights: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> LinearBaseline:
        X = self._design(x)
        Y = y.reshape(len(y), -1).astype(np.float64)
        gram = X.T @ X + self.alpha * len(X) * np.eye(X.shape[1])
        self.weights = np.linalg.solve(gram, X.T @ Y)
        self.out_shape = y.shape[1:]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("LinearBaseline.predict before fit")
        return (self._design(x) @ self.weights).reshape(len(x), *self.out_shape).astype(np.float32)

    @staticmethod
    def _design(x: np.ndarray) -> np.ndarray:
        flat = x.reshape(len(x), -1).astype(np.float64)
        return np.concatenate([flat, np.ones((len(x), 1))], axis=1)
