"""Scores of probabilistic forecasts (issue 25): each against a hand-checked example or a closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.metrics import conformal_offsets, coverage, crps, interval_score, msis, pinball


def _normal_cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _normal_quantile(p):
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _normal_cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def test_pinball_by_hand():
    # y = 10, forecast 8 as the 0.75 quantile: under by 2 -> 0.75 * 2 = 1.5; forecast 13: over by 3 -> 0.25 * 3
    assert pinball(np.array([10.0]), np.array([8.0]), 0.75) == pytest.approx(1.5)
    assert pinball(np.array([10.0]), np.array([13.0]), 0.75) == pytest.approx(0.75)
    assert pinball(np.array([10.0, 10.0]), np.array([8.0, 13.0]), 0.5) == pytest.approx(1.25)  # half the MAE
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        pinball(np.array([1.0]), np.array([1.0]), 1.0)


def test_msis_by_hand_with_a_seasonal_scale():
    # history with period 2: |h[t] - h[t-2]| = 2, 2, 2 -> scale 2
    history = np.array([0.0, 5.0, 2.0, 7.0, 4.0])
    y, lower, upper = np.array([3.0, 20.0]), np.array([1.0, 1.0]), np.array([5.0, 10.0])
    # step 1 inside: width 4; step 2 above by 10: width 9 + 40 * 10 = 409 -> mean 206.5 / 2
    assert interval_score(y, lower, upper, 0.05).tolist() == [4.0, 409.0]
    assert msis(y, lower, upper, history, period=2) == pytest.approx(103.25)
    assert coverage(y, lower, upper) == 0.5


def test_crps_from_dense_quantiles_matches_the_gaussian_closed_form():
    levels = np.arange(1, 200) / 200
    quantiles = np.array([_normal_quantile(p) for p in levels])
    for y in (0.0, 0.7, -2.5):
        z = y
        exact = (
            z * (2 * _normal_cdf(z) - 1) + 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi)
        )
        assert crps(np.array([y]), quantiles[None, :], levels) == pytest.approx(exact, abs=0.01)


def test_conformal_offsets_give_the_stated_coverage_on_new_windows():
    rng = np.random.default_rng(0)
    calibration, new = rng.normal(size=(400, 3)), rng.normal(size=(4000, 3))
    # a 95 % interval that is too narrow (±1: 68 %), widened per step on the calibration windows
    lower, upper = -np.ones((400, 3)), np.ones((400, 3))
    offsets = conformal_offsets(calibration, lower, upper, alpha=0.05)
    assert offsets.shape == (3,) and np.all(offsets > 0.8)
    widened = coverage(new, -1 - offsets, 1 + offsets)
    assert coverage(new, -1, 1) < 0.72 and 0.93 <= widened <= 0.97
    with pytest.raises(ValueError, match="cannot calibrate a 95% interval: it needs at least 19"):
        conformal_offsets(calibration[:10], lower[:10], upper[:10], alpha=0.05)
