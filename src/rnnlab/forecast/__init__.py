"""Forecasting: windows, baselines, dense and recurrent models, multi-step strategies, cross-validation."""

from rnnlab.forecast.baselines import LinearBaseline, last_value, repeat_last_window, seasonal_naive

__all__ = ["LinearBaseline", "last_value", "repeat_last_window", "seasonal_naive"]
