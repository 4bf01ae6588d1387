"""Metrics: regression errors for forecasting (MAE, MSE, RMSE, sMAPE, MASE, OWA) and scores of probabilistic
forecasts (pinball loss, coverage, MSIS, CRPS from quantiles, split-conformal offsets)."""

from rnnlab.metrics.probabilistic import conformal_offsets, coverage, crps, interval_score, msis, pinball
from rnnlab.metrics.regression import mae, mase, mse, owa, rmse, smape

__all__ = [
    "conformal_offsets",
    "coverage",
    "crps",
    "interval_score",
    "mae",
    "mase",
    "mse",
    "msis",
    "owa",
    "pinball",
    "rmse",
    "smape",
]
