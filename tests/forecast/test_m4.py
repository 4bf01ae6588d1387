"""M4 scoring: the seasonality test, Naive2's decomposition, OWA."""

import numpy as np
import pytest

from rnnlab.forecast.m4 import acf, naive2, score, seasonal_indices, seasonal_naive_forecast, seasonality_test


def test_acf_matches_numpy_definition():
    x = np.random.default_rng(0).normal(size=200)
    z = x - x.mean()
    assert acf(x, 3)[2] == pytest.approx(np.sum(z[3:] * z[:-3]) / np.sum(z * z))


def test_seasonality_test():
    t = np.arange(24 * 10)
    assert seasonality_test(10 + np.sin(2 * np.pi * t / 24), 24)
    rng = np.random.default_rng(0)
    false_alarms = sum(seasonality_test(rng.normal(size=240) + 10, 24) for _ in range(200))
    assert false_alarms < 0.2 * 200  # a 90 % limit: about 10 % of white-noise series flagged
    assert not seasonality_test(np.ones(50), 24)  # under three seasons


def test_seasonal_indices_recover_a_pure_multiplicative_pattern():
    pattern = np.array([0.5, 1.0, 1.5, 1.0])
    x = np.tile(pattern, 20) * 100
    np.testing.assert_allclose(seasonal_indices(x, 4), pattern, rtol=1e-12)
    np.testing.assert_allclose(naive2(x, 6, 4), 100 * pattern[[0, 1, 2, 3, 0, 1]], rtol=1e-12)


def test_naive2_without_seasonality_is_the_last_value():
    x = np.random.default_rng(1).normal(size=100) + 50
    assert naive2(x, 3, 24).tolist() == [x[-1]] * 3


def test_score_owa_of_naive2_is_one():
    rng = np.random.default_rng(2)
    hist = [rng.normal(size=120) + 10 for _ in range(3)]
    act = [rng.normal(size=24) + 10 for _ in range(3)]
    n2 = [naive2(h, 24, 24) for h in hist]
    assert score(hist, act, n2, n2, 24)["owa"] == pytest.approx(1.0)
    sn = [seasonal_naive_forecast(h, 24, 24) for h in hist]
    assert sn[0].tolist() == hist[0][-24:].tolist()
