"""Scores of probabilistic forecasts: quantiles and prediction intervals.

- pinball (quantile) loss of a forecast quantile q: mean of max(q·(y − f), (q − 1)·(y − f));
- coverage of an interval [lower, upper]: the share of actual values inside it;
- MSIS, the M4 competition's mean scaled interval score for a (1 − α) interval (Makridakis et al. 2020, the
  M4 guide): width + (2/α)·(lower − y) below + (2/α)·(y − upper) above, averaged over the horizon and
  divided by the in-sample MAE of the seasonal naive forecast (as MASE);
- CRPS approximated from quantiles: twice the pinball loss averaged over the quantile levels (exact in the limit
  of a dense uniform grid of levels; Gneiting & Raftery 2007);
- split-conformal offsets (Vovk et al. 2005; Stankeviciute et al. 2021 per horizon step): the widening of an
  interval that gives it the stated coverage on held-out calibration windows.

>>> y = np.array([1.0, 2.0, 3.0])
>>> pinball(y, np.array([2.0, 2.0, 2.0]), 0.9)  # under by 1 at y=3: 0.9; over by 1 at y=1: 0.1 -> (0.9+0.1)/3
0.3333333333333333
>>> coverage(y, np.array([0.5, 2.5, 2.0]), np.array([1.5, 3.0, 4.0]))
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_levels(quantiles: Sequence[float]) -> np.ndarray:
    levels = np.asarray(quantiles, dtype=np.float64)
    if levels.ndim != 1 or not len(levels) or not np.all((levels > 0) & (levels < 1)):
        raise ValueError(f"quantile levels must lie strictly between 0 and 1, received {list(quantiles)}")
    if np.any(np.diff(levels) <= 0):
        raise ValueError(f"quantile levels must be increasing, received {list(quantiles)}")
    return levels


def pinball(y: np.ndarray, f: np.ndarray, q: float) -> float:
    """The pinball loss of forecast ``f`` as the ``q``-quantile of ``y`` (same shapes), averaged."""
    if not 0 < q < 1:
        raise ValueError(f"a quantile level lies strictly between 0 and 1, received {q}")
    diff = np.asarray(y, dtype=np.float64) - np.asarray(f, dtype=np.float64)
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def pinball_levels(y: np.ndarray, forecasts: np.ndarray, quantiles: Sequence[float]) -> list[float]:
    """The pinball loss of each level: ``forecasts`` (..., Q) holds the quantiles of ``y`` (...) along its last
    axis.

    >>> [round(v, 6) for v in pinball_levels(np.array([0.0, 1.0]), np.array([[0.0, 1.0], [0.0, 1.0]]), [0.1, 0.9])]
    [0.05, 0.05]
    """
    levels = _check_levels(quantiles)
    forecasts = np.asarray(forecasts, dtype=np.float64)
    if forecasts.shape[-1] != len(levels) or forecasts.shape[:-1] != np.shape(y):
        raise ValueError(f"forecasts {forecasts.shape} must be y's shape {np.shape(y)} + ({len(levels)},)")
    return [pinball(y, forecasts[..., i], q) for i, q in enumerate(levels)]


def crps(y: np.ndarray, forecasts: np.ndarray, quantiles: Sequence[float]) -> float:
    """CRPS approximated from quantile forecasts: 2 × the pinball loss averaged over the levels.

    A point forecast as every quantile gives back the absolute error (CRPS of a point mass is the MAE):

    >>> levels = np.arange(1, 100) / 100
    >>> round(crps(np.array([3.0]), np.full((1, 99), 1.0), levels), 4)
    2.0
    """
    return float(2 * np.mean(pinball_levels(y, forecasts, quantiles)))


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of ``y`` inside [lower, upper] (bounds included)."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


def interval_score(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, alpha: float) -> np.ndarray:
    """Per point: (upper − lower) + (2/α)(lower − y)·[y < lower] + (2/α)(y − upper)·[y > upper]
    (Gneiting & Raftery 2007), for a central (1 − α) interval.

    >>> interval_score(np.array([0.0, 5.0, 12.0]), np.array([1.0, 1.0, 1.0]), np.array([10.0] * 3), 0.05).tolist()
    [49.0, 9.0, 89.0]
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is the interval's miss rate, strictly between 0 and 1 (0.05 for 95 %): {alpha}")
    y, lower, upper = (np.asarray(a, dtype=np.float64) for a in (y, lower, upper))
    below = (2 / alpha) * (lower - y) * (y < lower)
    above = (2 / alpha) * (y - upper) * (y > upper)
    return (upper - lower) + below + above


def msis(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, history: np.ndarray, period: int,
         alpha: float = 0.05) -> float:  # fmt: skip
    """The M4 guide's MSIS of one series: the mean interval score over the horizon divided by the in-sample MAE of
    the seasonal naive forecast on ``history`` (period 24 for hourly data).

    >>> round(msis(np.array([0.0, 5.0, 12.0]), np.ones(3), np.full(3, 10.0), np.array([1.0, 2, 3, 4]), 1), 4)
    49.0
    """
    history = np.asarray(history, dtype=np.float64)
    if len(history) <= period:
        raise ValueError(f"MSIS needs a history longer than the period {period}, received {len(history)} values")
    scale = np.mean(np.abs(history[period:] - history[:-period]))
    return float(np.mean(interval_score(y, lower, upper, alpha)) / scale)


def conformal_windows_needed(alpha: float) -> int:
    """The fewest calibration windows with which :func:`conformal_offsets` calibrates a 1 − α interval.

    >>> conformal_windows_needed(0.2), conformal_windows_needed(0.05)
    (4, 19)
    """
    return int(np.ceil(1 / alpha - 1e-9)) - 1  # 0.1 + 1 - 0.9 is 0.19999999999999996: still 4 for 80 %


def conformal_offsets(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, alpha: float) -> np.ndarray:
    """Split-conformal widening of intervals, per horizon step (conformalised quantile regression, Romano et al.
    2019): on calibration windows ``y``, ``lower``, ``upper`` of shape (N, H, ...), the score of a window is
    max(lower − y, y − upper); the offset of each step is the ⌈(N + 1)(1 − α)⌉-th smallest score. Intervals
    [lower − offset, upper + offset] then cover a new window with probability ≥ 1 − α (exchangeable windows).

    >>> y = np.arange(10.0)[:, None]  # 10 windows of one step, intervals [y - 1, y + 1] except three misses
    >>> lo, hi = y - 1, y + 1
    >>> lo[:3] = y[:3] + 2  # misses by 2
    >>> conformal_offsets(y, lo, hi, alpha=0.2).tolist()  # the 9th smallest of seven -1 and three 2: 2
    [2.0]
    """
    y, lower, upper = (np.asarray(a, dtype=np.float64) for a in (y, lower, upper))
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is the interval's miss rate, strictly between 0 and 1 (0.05 for 95 %): {alpha}")
    n = len(y)
    rank = int(np.ceil((n + 1) * (1 - alpha)))
    if n == 0 or rank > n:
        raise ValueError(f"{n} calibration windows cannot calibrate a {1 - alpha:.0%} interval: it needs at least "
                         f"{conformal_windows_needed(alpha)}")  # fmt: skip
    scores = np.maximum(lower - y, y - upper)
    return np.sort(scores, axis=0)[rank - 1]
