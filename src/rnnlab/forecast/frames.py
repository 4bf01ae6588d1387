"""DataFrames in and out of a Forecaster: the user's column names and time stamps kept, NeuralForecast's
``unique_id`` / ``ds`` / ``y`` long format understood without options.

>>> import pandas as pd
>>> df = pd.DataFrame({"unique_id": ["a"] * 3, "ds": pd.date_range("2024-01-01", periods=3, freq="h"),
...                    "y": [1.0, 2, 3]})
>>> data_settings(df)["series_col"], data_settings(df)["time_col"], data_settings(df)["targets"]
('unique_id', 'ds', ['y'])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.data.series import FILLS, SeriesData

Source = pd.DataFrame | str | Path


def data_settings(
    data: Source,
    *,
    target: str | Sequence[str] | None = None,
    time_col: str | None = None,
    series_col: str | None = None,
    features: Sequence[str] = (),
    calendar: Sequence[str] = (),
    fill: str | None = None,
    future_features: Sequence[str] = (),
    horizon: int | None = None,
    timezone: str | None = None,
) -> dict[str, Any]:
    """How to read ``data`` (saved with the model, so that predict reads new data the same way). A DataFrame
    with NeuralForecast's columns needs no option: ``y`` is the target, ``ds`` the time, ``unique_id`` the series.
    ``future_features``: columns known ``horizon`` steps ahead (:func:`rnnlab.data.series.with_leads`).
    ``timezone``: the calendar features on that zone's clock (times written with UTC offsets; an IANA name)."""
    columns = set(data.columns) if isinstance(data, pd.DataFrame) else set()
    if target is None:
        if "y" not in columns:
            raise ValueError("name the column(s) to forecast: target='...' (a DataFrame with a 'y' column needs none)")
        target = "y"
    if time_col is None and "ds" in columns:
        time_col = "ds"
    if series_col is None and "unique_id" in columns:
        series_col = "unique_id"
    if fill is not None and fill not in FILLS:
        raise ValueError(f"fill must be one of {list(FILLS)} or None, received {fill!r}")
    targets = [target] if isinstance(target, str) else list(target)
    calendar, features, future_features = (
        [x][: bool(x)] if isinstance(x, str) else x for x in (calendar, features, future_features)
    )  # calendar="hour" is ["hour"], not one name per letter
    settings = {"time_col": time_col, "targets": targets, "features": list(features), "series_col": series_col,
                "fill": fill, "calendar": list(calendar)}  # fmt: skip
    if timezone is not None:
        if not calendar:  # it would be saved and do nothing
            raise ValueError(f"timezone {timezone!r} sets the clock of the calendar features: give calendar too")
        settings["timezone"] = timezone
    if future_features:
        check_future_features(list(future_features), targets, list(features))
        settings.update(future_features=list(future_features), future_horizon=horizon)
    return settings


def check_future_features(future: list[str], targets: list[str], features: list[str]) -> None:
    """Columns known in advance are neither targets nor past-only features, and each is named once."""
    from rnnlab.errors import ConfigError

    both = [c for c in future if c in targets or c in features]
    if both or len(set(future)) != len(future):
        what = f"{both} also given as --target or --features" if both else f"a column named twice: {future}"
        raise ConfigError(f"--future-features: {what}; a column known in advance is given once, there only")


def future_stamps(times: np.ndarray, horizon: int, freq: str | None) -> list:
    """The ``horizon`` time stamps after ``times`` (pandas Timestamps at ``freq``; step numbers without a time)."""
    if freq is None or not np.issubdtype(np.asarray(times).dtype, np.datetime64):
        return list(range(len(times), len(times) + horizon))
    return list(pd.date_range(pd.Timestamp(times[-1]), periods=horizon + 1, freq=freq)[1:])


def as_years(stamps: list, data: SeriesData) -> list:
    """Time stamps as the data wrote them: whole years (2020) when its time column held years, UTC (+00:00)
    when it held offsets (the times were read as UTC)."""
    if data.years:
        return [pd.Timestamp(t).year for t in stamps]
    return [pd.Timestamp(t).tz_localize("UTC") for t in stamps] if data.utc else stamps


def quantile_columns(targets: list[str], levels: tuple[float, ...]) -> list[tuple[str, int, int]]:
    """(column name, target index, level index) of each quantile column besides the median: ``y_q0.025``.

    >>> quantile_columns(["y"], (0.025, 0.5, 0.975))
    [('y_q0.025', 0, 0), ('y_q0.975', 0, 2)]
    """
    return [(f"{t}_q{q:g}", k, i) for k, t in enumerate(targets) for i, q in enumerate(levels) if q != 0.5]


def forecast_frame(data: SeriesData, forecasts: np.ndarray, settings: dict, *, quantiles: np.ndarray | None = None,
                   levels: tuple[float, ...] = ()) -> pd.DataFrame:  # fmt: skip
    """One row per series and future step, in the input's own column names: ``[series_col], time_col (or
    'step'), targets...``; ``forecasts`` (S, H, K) in the data's units (a column of years written as years).
    ``quantiles`` (S, H, K, Q) of the ``levels``: a column ``<target>_q<level>`` for each level but the median
    (the target's own column)."""
    time_col = settings.get("time_col") or "step"
    series_col = settings.get("series_col")
    extra = quantile_columns(data.targets, levels) if quantiles is not None else []
    rows = []
    for i, (s, f) in enumerate(zip(data.series, forecasts, strict=True)):
        stamps = as_years(future_stamps(s.times, len(f), settings.get("freq")), data)
        for h, (t, values) in enumerate(zip(stamps, f, strict=True)):
            row = {series_col: s.id} if series_col else {}
            row = {**row, time_col: t, **dict(zip(data.targets, values.tolist(), strict=True))}
            rows.append({**row, **{name: float(quantiles[i, h, k, j]) for name, k, j in extra}})  # type: ignore[index]
    columns = [*([series_col] if series_col else []), time_col, *data.targets, *(name for name, _, _ in extra)]
    return pd.DataFrame(rows, columns=columns)


def forecast_record(data: SeriesData, forecasts: np.ndarray, settings: dict, *, keep: int | None = None,
                    quantiles: np.ndarray | None = None, levels: tuple[float, ...] = ()) -> dict:  # fmt: skip
    """The JSON answer every door gives (``forecast predict --output f.json`` and the service): the targets, the
    horizon, and per series its id, the last ``keep`` steps of history (default: 4 horizons) and the forecast,
    each as ``{"time": [...], <target>: [...]}`` (time stamps as text, values as floats); with ``quantiles``
    (S, H, K, Q) of the ``levels``, the forecast also holds ``<target>_q<level>`` lists and the answer the
    ``quantiles`` levels."""
    horizon = forecasts.shape[1]
    keep = keep or 4 * max(horizon, 1)
    extra = quantile_columns(data.targets, levels) if quantiles is not None else []
    series = []
    for i, (s, f) in enumerate(zip(data.series, forecasts, strict=True)):
        future = future_stamps(s.times, horizon, settings.get("freq"))
        bands = {name: _plain(quantiles[i, :, k, j]) for name, k, j in extra}  # type: ignore[index]
        series.append({
            "id": str(s.id),
            "history": {"time": _times(list(s.times[-keep:]), data),
                        **{t: _plain(s.values[-keep:, k]) for k, t in enumerate(data.targets)}},
            "forecast": {"time": _times(future, data), **{t: _plain(f[:, k]) for k, t in enumerate(data.targets)},
                         **bands},
        })  # fmt: skip
    record = {"targets": list(data.targets), "horizon": horizon, "series": series}
    return {**record, "quantiles": list(levels)} if extra else record


def _times(values: list, data: SeriesData) -> list:
    """Time stamps as text, or as whole years (integers) when the data's time column held years."""
    stamps = as_years(values, data)
    return stamps if data.years else _plain(stamps)


def _plain(values: Any) -> list:
    """JSON-ready values: numbers as floats, time stamps as text written one way (``2024-01-02 16:00:00``, as the
    CSV output; numpy's datetime64 would write the history ``2024-01-02T00:00:00.000000``)."""
    array = np.asarray(values)
    if array.dtype == np.float32:  # the shortest text that reads back as the same float32: 59.894, not 59.894001007
        return [float(str(v)) for v in array]
    if np.issubdtype(array.dtype, np.number):
        return [float(v) for v in array]
    if np.issubdtype(array.dtype, np.datetime64):
        return [str(pd.Timestamp(v)) for v in array]
    return [str(v) for v in array]
