"""Metrics: regression errors for forecasting (MAE, MSE, RMSE, sMAPE, MASE, OWA)."""

from rnnlab.metrics.regression import mae, mase, mse, owa, rmse, smape

__all__ = ["mae", "mase", "mse", "owa", "rmse", "smape"]
