"""Reading time series from CSV or pandas: one series or many (long format), validated row by row.

Every problem names the file, the column and the row (1-based, counting the header as
row 1, as a spreadsheet shows it) and says how to fix it. Gaps in a regular frequency and
missing values are errors unless a fill policy is asked for; infinite values, and values too
large for float32 (the networks' type), are always errors.

>>> import pandas as pd
>>> df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=4, freq="h"), "y": [1.0, 2, 3, 4]})
>>> data = read_series(df, time_col="date", targets=["y"])
>>> data.series[0].values[:, 0].tolist(), data.freq
([1.0, 2.0, 3.0, 4.0], 'h')
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from rnnlab.data.readers import read_csv_checked
from rnnlab.errors import ConfigError, DataError, DataWarning

Fill = Literal["ffill", "interpolate", "zero"]
FILLS: tuple[str, ...] = ("ffill", "interpolate", "zero")


@dataclasses.dataclass
class Series:
    """One series: its id, timestamps (T,) and values (T, C) in the order of ``SeriesData.columns``."""

    id: str
    times: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


@dataclasses.dataclass
class SeriesData:
    """Several aligned-column series; ``targets`` are forecast, ``features`` only observed."""

    series: list[Series]
    targets: list[str]
    features: list[str]
    freq: str | None
    source: str = "<data>"
    years: bool = False  # the time column held whole years (1980): forecasts are written back as years
    utc: bool = False  # the time stamps carried UTC offsets: times are UTC, forecasts written with +00:00
    clock_changes: bool = False  # ... and the offsets change (daylight saving time): local hours move against UTC

    @property
    def columns(self) -> list[str]:
        return self.targets + [f for f in self.features if f not in self.targets]

    def column_index(self, names: Sequence[str]) -> list[int]:
        return [self.columns.index(n) for n in names]


def read_series(
    source: str | Path | pd.DataFrame,
    *,
    time_col: str | None,
    targets: Sequence[str],
    features: Sequence[str] = (),
    series_col: str | None = None,
    fill: Fill | None = None,
    freq: str | None = None,
    expected_freq: str | None = None,
    name: str | None = None,
) -> SeriesData:
    """Read and validate one series (``series_col=None``) or many in long format.

    ``freq`` imposes the frequency; ``expected_freq`` (a model's) refuses data of another frequency. ``name``: what
    errors call the data (default: the path, or ``<DataFrame>``); a frame's ``__row__`` column, when it has one,
    holds the rows' numbers in that file.
    """
    if fill is not None and fill not in FILLS:
        raise ConfigError(f"fill (--fill) takes one of {list(FILLS)}, received {fill!r}")
    name = name or ("<DataFrame>" if isinstance(source, pd.DataFrame) else str(source))
    df = (
        source.copy()
        if isinstance(source, pd.DataFrame)
        else read_csv_checked(Path(source), **_ids_as_text(series_col))
    )
    if len(df) == 0:
        raise DataError("no data rows", path=name, hint="give the rows under the header")
    wanted = [c for c in [time_col, series_col, *targets, *features] if c is not None]
    missing = [c for c in dict.fromkeys(wanted) if c not in df.columns]
    if missing:
        columns = [c for c in df.columns if c != "__row__"]
        hint = ("check --time-col / --target / --features / --series-col (predict and evaluate read the columns "
                "the model was fitted on)")  # fmt: skip
        if len(columns) == 1 and any(sep in str(columns[0]) for sep in ";\t"):  # Excel's ';' with decimal commas
            hint = "the file is not comma-separated (one column read); save it as CSV with ',' between the fields"
        raise DataError(f"column(s) {missing} not found; the columns are {columns}", path=name, hint=hint)
    if not targets:
        raise DataError("no target column given", path=name, hint="pass at least one --target")
    if series_col is not None and series_col in [*targets, *features]:  # every value its own 1-step series
        raise DataError(f"--series-col {series_col} is also a --target / --features column", path=name,
                        hint="--series-col names the column of the series' ids (e.g. a store or a sensor)")  # fmt: skip
    for option, names in (("--target", targets), ("--features", features)):
        if len(set(names)) != len(names):
            raise DataError(f"{option} names a column twice: {list(names)}", path=name, hint="name each column once")
    if "__row__" not in df.columns:
        df["__row__"] = np.arange(2, len(df) + 2)  # spreadsheet row numbers (header = row 1)
    for col in dict.fromkeys([*targets, *features]):
        _check_numeric(df, col, name)
    if series_col is not None:
        _check_ids(df, series_col, name)
    groups = [("series", df)] if series_col is None else list(df.groupby(series_col, sort=False))
    dayfirst = day_first(df, time_col, name)
    out, freqs, zoned = [], {}, []
    for sid, part in groups:
        times, values, f, zone = _one_series(part, time_col, [*targets, *[c for c in features if c not in targets]],
                                            name, fill, freq, dayfirst)  # fmt: skip
        zoned.append(zone)
        _check_freq(f, expected_freq, name, time_col)
        freqs.setdefault(f, str(sid))
        out.append(Series(str(sid), times, values))
    _one_frequency(freqs, name, time_col)
    years = time_col is not None and _numeric(df[time_col])
    freq_all = next(iter(freqs)) if len(freqs) == 1 else None
    return SeriesData(out, list(targets), list(features), freq_all, name, years, utc=any(zoned),
                      clock_changes="changing" in zoned)  # fmt: skip


def _ids_as_text(series_col: str | None) -> dict:
    """read_csv options that keep the series ids as written: ``01`` and ``1`` are two series, ``007`` stays
    ``007`` (pandas would read them as numbers)."""
    return {} if series_col is None else {"dtype": {series_col: str}}


def _check_ids(df: pd.DataFrame, series_col: str, name: str) -> None:
    """Every row names its series (pandas' groupby drops the rows whose id is empty, without a word)."""
    empty = df[series_col].isna() | (df[series_col].astype(str).str.strip() == "")
    if empty.any():
        i = int(np.argmax(empty.to_numpy()))
        raise DataError("empty series id", path=name, line=int(df["__row__"].iloc[i]), column=series_col,
                        hint="give every row the id of its series")  # fmt: skip


def _one_frequency(freqs: dict, name: str, time_col: str | None) -> None:
    """Every series of the data steps at one frequency (one model reads them all on one grid)."""
    found = [f for f in freqs if f is not None]
    for f in found[1:]:
        if not _same_freq(f, found[0]):
            raise DataError(f"series {freqs[found[0]]!r} steps at {found[0]}, series {freqs[f]!r} at {f}: one "
                            "model reads all the series on one grid", path=name, column=time_col,
                            hint="resample the series to one frequency, or fit one model per frequency")  # fmt: skip


def with_calendar(data: SeriesData, kinds: Sequence[str], timezone: str | None = None) -> SeriesData:
    """``data`` with calendar features (sin/cos of hour, day of week, month) appended as feature columns.

    They are known in advance: a window's last step fixes the calendar position of every step it forecasts.

    >>> df = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, freq="h"), "y": [1.0, 2, 3]})
    >>> with_calendar(read_series(df, time_col="t", targets=["y"]), ["hour"]).columns
    ['y', 'hour_sin', 'hour_cos']
    """
    from rnnlab.data.windows import calendar_features

    if not kinds:
        return data
    if any(not np.issubdtype(np.asarray(s.times).dtype, np.datetime64) for s in data.series):
        raise DataError("calendar features need time stamps", path=data.source, hint="pass --time-col")
    clocks = [s.times for s in data.series]
    if timezone is not None:
        zone = _zone(timezone, data)  # checked once, not per series
        clocks = [_local(times, zone) for times in clocks]
    elif data.clock_changes and {"hour", "dayofweek"} & set(kinds):
        warnings.warn(DataWarning(f"{data.source}: the times change their UTC offset (daylight saving time) and are "
                                  "read on UTC: the hour and day-of-week features are UTC's, an hour off the local "
                                  "clock for part of the year; give the time zone (--timezone Europe/Paris) for "
                                  "local-clock features"), stacklevel=2)  # fmt: skip
    try:
        names = [f"{k}_{part}" for k in kinds for part in ("sin", "cos")]
        series = [Series(s.id, s.times, np.concatenate([s.values, calendar_features(clock, kinds)], axis=1))
                  for s, clock in zip(data.series, clocks, strict=True)]  # fmt: skip
    except ValueError as exc:
        raise DataError(str(exc), path=data.source, hint="--calendar takes hour, dayofweek, month") from None
    return dataclasses.replace(data, series=series, features=[*data.features, *names])


def _zone(timezone: str, data: SeriesData) -> Any:
    """The zone named ``timezone`` (IANA), for data whose times were written with UTC offsets (kept in UTC)."""
    import zoneinfo

    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"unknown time zone {timezone!r}: give an IANA name such as Europe/Paris or "
                          "America/New_York") from None  # fmt: skip
    if not data.utc:
        raise DataError(f"--timezone {timezone} converts times written with UTC offsets (2024-03-31T03:00+02:00); "
                        "these times have none and are read as local times already", path=data.source,
                        hint="drop --timezone, or write the times with their offsets")  # fmt: skip
    return zone


def _local(times: np.ndarray, zone: Any) -> np.ndarray:
    """UTC times (read from stamps with offsets) on the wall clock of ``zone``, daylight saving time included.

    >>> import zoneinfo
    >>> _local(np.array(["2024-03-31T00:00", "2024-03-31T01:00"], dtype="datetime64[ns]"),
    ...        zoneinfo.ZoneInfo("Europe/Paris"))
    array(['2024-03-31T01:00:00.000000000', '2024-03-31T03:00:00.000000000'],
          dtype='datetime64[ns]')
    """
    return pd.DatetimeIndex(times).tz_localize("UTC").tz_convert(zone).tz_localize(None).to_numpy()


def read_like(source: str | Path | pd.DataFrame, settings: dict, *, future_rows: bool = False) -> SeriesData:
    """Read ``source`` as a forecaster's saved data settings say (columns, fill policy, calendar features, columns
    known in advance). ``future_rows``: the data ends, in each series, with the rows of the steps to forecast (the
    targets empty, the ``future_features`` given), as ``forecast predict`` reads it; see :func:`with_leads`."""
    name = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    if "targets" not in settings:  # Forecaster.fit_arrays saves no column names
        raise DataError("the model was fitted on arrays (Forecaster.fit_arrays): it knows no column names to read "
                        "a table with", path=name, hint="use Forecaster.predict_arrays in Python, or fit the model "
                        "on a CSV or DataFrame (forecast fit / Forecaster.fit)")  # fmt: skip
    features = settings.get("features", [])
    if settings.get("future_features"):
        source, leads = with_leads(source, settings, name, future_rows=future_rows)
        features = [*features, *leads]
    data = read_series(source, time_col=settings.get("time_col"), targets=settings["targets"], features=features,
                       series_col=settings.get("series_col"), fill=settings.get("fill"),
                       expected_freq=settings.get("freq"), name=name)  # fmt: skip
    return with_calendar(data, settings.get("calendar") or [], settings.get("timezone"))


def lead_name(column: str, horizon: int) -> str:
    """The input column holding ``column``'s value ``horizon`` steps later: ``promo+24``."""
    return f"{column}+{horizon}"


def with_leads(source: str | Path | pd.DataFrame, settings: dict, name: str, *, future_rows: bool
               ) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """The rows with each of ``settings["future_features"]`` (columns known in advance: a planned promotion, a
    weather forecast) read ``future_horizon`` (H) steps ahead, as input columns ``<col>+H``: a window ending at
    step t then holds the column's values up to t + H, the whole horizon it forecasts. Rows in time order.

    Fit and evaluate (``future_rows`` False): every row is history; the last H rows' lead values, which no window
    with known labels reads, repeat the last value. Predict (``future_rows`` True): each series ends with at least
    H rows whose targets are empty and whose future columns hold the values ahead; they are cut from the history.

    >>> df = pd.DataFrame({"y": [1.0, 2, 3, None], "p": [0.0, 1, 0, 1]})
    >>> frame, leads = with_leads(df, {"future_features": ["p"], "future_horizon": 1, "targets": ["y"]}, "d.csv",
    ...                           future_rows=True)
    >>> leads, frame["p+1"].tolist(), len(frame)
    (['p+1'], [1.0, 0.0, 1.0], 3)
    """
    series_col = settings.get("series_col")
    df = (
        source.copy()
        if isinstance(source, pd.DataFrame)
        else read_csv_checked(Path(source), **_ids_as_text(series_col))
    )
    df["__row__"] = np.arange(2, len(df) + 2)
    future, horizon = list(settings["future_features"]), int(settings["future_horizon"])
    missing = [c for c in future if c not in df.columns]
    if missing:
        raise DataError(f"column(s) {missing} not found: the model reads their values over the {horizon} steps it "
                        f"forecasts (--future-features); the columns are {list(df.columns)}", path=name,
                        hint="give those columns, known in advance, in the data")  # fmt: skip
    for col in future:
        _check_numeric(df, col, name)
    groups = (
        [df]
        if series_col is None or series_col not in df.columns
        else [p for _, p in df.groupby(series_col, sort=False)]
    )
    dayfirst = day_first(df, settings.get("time_col"), name)
    parts = [_lead_part(_time_ordered(part, settings.get("time_col"), dayfirst), settings, name, future_rows, dayfirst)
             for part in groups]  # fmt: skip
    return pd.concat(parts, ignore_index=True), [lead_name(c, horizon) for c in future]


def _time_ordered(part: pd.DataFrame, time_col: str | None, dayfirst: bool = False) -> pd.DataFrame:
    """One series' rows sorted by their time stamps (stable; as read_series orders them), so that a value read H
    steps ahead is the one H steps later in time, not in the file. Times that do not parse keep their place (the
    reader names them later)."""
    if time_col is None or time_col not in part.columns:
        return part
    key = pd.to_numeric(part[time_col], errors="coerce")  # whole years
    if key.isna().any():
        key = to_stamps(part[time_col], dayfirst)
    if key.isna().any():
        return part
    return part.iloc[np.argsort(key.to_numpy(), kind="stable")]


def _check_future_times(part: pd.DataFrame, history: int, settings: dict, name: str, dayfirst: bool) -> None:
    """The forecast steps' rows carry the time stamps that follow the history at the model's frequency."""
    time_col, freq, horizon = settings.get("time_col"), settings.get("freq"), int(settings["future_horizon"])
    if time_col is None or freq is None or time_col not in part.columns:
        return
    column = part[time_col].iloc[: history + horizon]
    stamps = _years(part.iloc[: history + horizon], time_col, name) if _numeric(column) else to_stamps(column, dayfirst)
    if stamps.isna().any():  # the forecast steps' rows are cut from the history: the reader would not see them
        i = int(np.argmax(stamps.isna().to_numpy()))
        raise DataError(f"unparseable timestamp {column.iloc[i]!r}", path=name, line=int(part["__row__"].iloc[i]),
                        column=time_col, hint=_unparsed_hint(column, stamps))  # fmt: skip
    try:
        expected = pd.date_range(stamps.iloc[history - 1], periods=horizon + 1, freq=freq)[1:]
    except ValueError:
        return
    for k in range(horizon):
        if stamps.iloc[history + k] != expected[k]:
            raise DataError(f"the forecast steps' rows must follow the history at the model's frequency ({freq}): "
                            f"expected {expected[k]}, found {part[time_col].iloc[history + k]}", path=name,
                            line=int(part["__row__"].iloc[history + k]), column=time_col,
                            hint="date the rows after the history with the next steps, in order")  # fmt: skip


def _lead_part(part: pd.DataFrame, settings: dict, name: str, future_rows: bool, dayfirst: bool = False
               ) -> pd.DataFrame:  # fmt: skip
    """One series' rows with its lead columns (see :func:`with_leads`)."""
    future, horizon, targets = list(settings["future_features"]), int(settings["future_horizon"]), settings["targets"]
    values = part[future].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    history = len(part)
    which = "the data" if settings.get("series_col") is None else f"series {part[settings['series_col']].iloc[0]!r}"
    if future_rows:
        known = part[[t for t in targets if t in part.columns]].apply(pd.to_numeric, errors="coerce").notna()
        known_rows = np.flatnonzero(known.any(axis=1).to_numpy())
        history = int(known_rows[-1]) + 1 if len(known_rows) else 0
        if history == 0:
            raise DataError(f"{which} has no history (every target cell is empty): the model forecasts from the "
                            "rows before the forecast steps", path=name, line=int(part["__row__"].iloc[0]),
                            hint="give each series its history rows, or drop the series")  # fmt: skip
        if len(part) - history > horizon:
            extra = f"{name}: {which} has {len(part) - history} rows after its history; the model forecasts {horizon}"
            warnings.warn(DataWarning(f"{extra} steps and reads the first {horizon} of them"), stacklevel=2)
        if len(part) - history < horizon:
            raise DataError(f"{which} has {len(part) - history} row(s) after its history; the model reads the next "
                            f"{horizon} values of {future} (--future-features)", path=name,
                            hint=f"add {horizon} rows after the last one with the time, {', '.join(future)}, and "
                            "the target(s) left empty")  # fmt: skip
        values = values[: history + horizon]
        _check_future_times(part, history, settings, name, dayfirst)
    else:
        values = np.concatenate([values, np.repeat(values[-1:], horizon, axis=0)])
    blank = np.isnan(values)
    if blank.any():
        i, j = np.argwhere(blank)[0]
        raise DataError("empty value in a column known in advance (--future-features)", path=name,
                        line=int(part["__row__"].iloc[min(i, len(part) - 1)]), column=future[j],
                        hint="give it on every row, the forecast steps included")  # fmt: skip
    out = part.iloc[:history].copy()
    for j, col in enumerate(future):
        out[lead_name(col, horizon)] = values[horizon : horizon + history, j]
    return out


def future_times(times: np.ndarray, horizon: int, freq: str | None) -> list:
    """The ``horizon`` time stamps after ``times`` (ISO text at frequency ``freq``, else step numbers)."""
    if freq is None or not np.issubdtype(np.asarray(times).dtype, np.datetime64):
        return list(range(len(times), len(times) + horizon))
    return [str(t) for t in pd.date_range(pd.Timestamp(times[-1]), periods=horizon + 1, freq=freq)[1:]]


def _check_freq(found: str | None, expected: str | None, name: str, time_col: str | None) -> None:
    """A model fitted on one frequency forecasts on that grid: data of another frequency is refused."""
    if found is None or expected is None or _same_freq(found, expected):
        return
    raise DataError(
        f"the data's frequency is {found}, the model was fitted on {expected} data",
        path=name,
        column=time_col,
        hint=f"resample the series to {expected}, or fit a model on {found} data",
    )


def _same_freq(a: str, b: str) -> bool:
    """Whether two frequencies are one step: "D" and "24h" are (pandas 3 tells a calendar day from 24 hours, a
    gap filled with --fill may read as either), "MS" and "M" are not.

    >>> _same_freq("D", "24h"), _same_freq("h", "60min"), _same_freq("MS", "D")
    (True, True, False)
    """
    try:
        oa, ob = pd.tseries.frequencies.to_offset(a), pd.tseries.frequencies.to_offset(b)
    except ValueError:
        return a == b
    if oa == ob:
        return True
    try:
        return pd.Timedelta(oa) == pd.Timedelta(ob)
    except ValueError:  # calendar offsets (months, weeks anchored on a day) have no fixed length
        return False


def _check_numeric(df: pd.DataFrame, col: str, name: str) -> None:
    converted = pd.to_numeric(df[col], errors="coerce")
    bad = converted.isna() & df[col].notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"non-numeric value {df[col].iloc[i]!r}", path=name, line=int(df["__row__"].iloc[i]), column=col,
            hint="targets and features must be numbers",
        )  # fmt: skip
    values = converted.to_numpy(dtype="float64")
    with np.errstate(over="ignore"):
        too_big = ~np.isnan(values) & ~np.isfinite(values.astype(np.float32))  # inf, or beyond float32's 3.4e38
    if too_big.any():
        i = int(np.argmax(too_big))
        what = "is infinite" if np.isinf(values[i]) else "is too large for float32 (|x| > 3.4e38)"
        raise DataError(
            f"value {df[col].iloc[i]} {what}",
            path=name,
            line=int(df["__row__"].iloc[i]),
            column=col,
            hint="fix or remove the row; leave the cell empty for a missing value (then --fill)",
        )
    far = far_outlier(values)
    if far is not None:
        i, sigmas = far
        warnings.warn(DataWarning(
            f"{name}, row {int(df['__row__'].iloc[i])}, column {col}: {df[col].iloc[i]} lies {sigmas:.2g} standard "
            "deviations from the other values; the scaler is fitted to it and the model sees little else (a unit "
            "or typing error?). Fix the row, or leave the cell empty and pass --fill"), stacklevel=2)  # fmt: skip
    df[col] = values


def far_outlier(values: np.ndarray, sigmas: float = 1000.0) -> tuple[int, float] | None:
    """(index, distance in standard deviations of the others) of the value farthest from the rest when it lies
    more than ``sigmas`` of their standard deviations away: a value that alone sets the scale (1e25 among
    hundreds). None for fewer than 10 values or when the others are constant (a single event in a flat series).

    >>> far_outlier(np.r_[np.arange(20.0), 1e25])[0], far_outlier(np.r_[np.arange(20.0), 50.0])
    (20, None)
    """
    finite = np.flatnonzero(~np.isnan(values))
    if len(finite) < 10:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        i = int(finite[np.argmax(np.abs(values[finite] - np.median(values[finite])))])
        rest = values[finite[finite != i]]
        spread = float(rest.std())
        distance = abs(values[i] - rest.mean()) / spread if spread > 0 else 0.0
    return (i, distance) if np.isfinite(distance) and distance > sigmas else None


def _one_series(part: pd.DataFrame, time_col: str | None, cols: list[str], name: str, fill: str | None,
                freq: str | None, dayfirst: bool = False
                ) -> tuple[np.ndarray, np.ndarray, str | None, str]:  # fmt: skip
    """Times, values and frequency of one series, and whether its time stamps carried UTC offsets: "" (none),
    "fixed" (one offset) or "changing" (+01:00 then +02:00)."""
    if time_col is None:
        return np.arange(len(part)), _values(part, cols, name, fill), None, ""
    part, stamps = _parse_times(part, time_col, name, dayfirst)
    zone = ""
    if stamps.tz is not None:  # offsets (+01:00, Z): one clock for all rows, UTC, kept as naive datetime64
        offsets = part[time_col].astype(str).str.extract(r"(Z|[+-]\d\d:?\d\d)\s*$", expand=False)
        zone = "changing" if offsets.nunique() > 1 else "fixed"
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    part, stamps, step = _regular(part, stamps, time_col, name, fill, freq)
    return stamps.to_numpy(), _values(part, cols, name, fill), step, zone


def _parse_times(part: pd.DataFrame, time_col: str, name: str, dayfirst: bool = False
                 ) -> tuple[pd.DataFrame, pd.DatetimeIndex]:  # fmt: skip
    stamps = _years(part, time_col, name) if _numeric(part[time_col]) else to_stamps(part[time_col], dayfirst)
    for bad, what, hint in (
        (stamps.isna(), "unparseable timestamp", _unparsed_hint(part[time_col], stamps)),
        (stamps.duplicated(), "duplicated timestamp", "one row per time step (and per series with --series-col)"),
    ):
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise DataError(f"{what} {part[time_col].iloc[i]!r}", path=name, line=int(part["__row__"].iloc[i]),
                            column=time_col, hint=hint)  # fmt: skip
    order = np.argsort(stamps.to_numpy(), kind="stable")
    return part.iloc[order], pd.DatetimeIndex(stamps.iloc[order])


# a date written with the day and the month in either order: 01/02/2024, 1.2.24, 01-02-2024 13:00
_SLASHED = re.compile(r"\s*\d{1,2}([/.-])\d{1,2}\1\d{2,4}(\s|T|$)")


def to_stamps(column: pd.Series, dayfirst: bool = False) -> pd.Series:
    """Time stamps from a column of dates, NaT where one does not parse; offsets that change (daylight saving
    time: +01:00 then +02:00) are read on one clock, UTC. ``dayfirst`` only for dates of the ``01/02/2024`` kind
    (see :func:`day_first`): pandas would read ISO ``2024-01-02`` as the 1st of February with it."""
    try:
        return pd.to_datetime(column, errors="coerce", dayfirst=dayfirst)
    except ValueError:
        return pd.to_datetime(column, errors="coerce", utc=True, dayfirst=dayfirst)


def day_first(df: pd.DataFrame, time_col: str | None, name: str) -> bool:
    """Whether the dates of ``df[time_col]`` must be read day first (``31/01/2024``, as in Europe; pandas reads the
    first row month first and then every row its way: ``01/01/2024`` then ``13/01/2024`` fails). Decided once for
    the whole column: the order that reads every row; if both do and give other dates (``01/02/2024``), the one that
    lays the rows on a regular grid; if that does not decide either, a ``DataError`` asks for ISO dates, which read
    one way only.

    >>> day_first(pd.DataFrame({"d": ["12/01/2024", "13/01/2024", "14/01/2024"]}), "d", "d.csv")
    True
    >>> day_first(pd.DataFrame({"d": ["2024-01-30", "2024-01-31"]}), "d", "d.csv")
    False
    """
    if time_col is None or time_col not in df.columns or _numeric(df[time_col]):
        return False
    text = df[time_col].dropna().astype(str)
    if text.empty or not _SLASHED.match(text.iloc[0]) or not text.str.match(_SLASHED).all():
        return False  # the first date decides the common case (ISO) without a pass over the column
    with warnings.catch_warnings():  # pandas warns when it reads a row day first against the flag
        warnings.simplefilter("ignore", UserWarning)
        month, day = to_stamps(df[time_col], False), to_stamps(df[time_col], True)
    bad_month, bad_day = int(month.isna().sum()), int(day.isna().sum())
    if bad_month != bad_day:
        return bad_day < bad_month
    if month.equals(day):
        return False
    grid_month, grid_day = _on_a_grid(month), _on_a_grid(day)
    if grid_month != grid_day:
        return grid_day
    example = next((t for t, a, b in zip(df[time_col], month, day, strict=True) if a != b), text.iloc[0])
    raise DataError(f"the dates read two ways, day first or month first ({example!r}), and both give a series as "
                    "regular: rnnlab cannot tell which is meant", path=name, column=time_col,
                    hint="write the dates as ISO dates, year first (2024-02-01), which read one way only")  # fmt: skip


def _on_a_grid(stamps: pd.Series) -> bool:
    """Whether the distinct ``stamps`` fall on a regular grid (pandas infers a frequency)."""
    unique = pd.DatetimeIndex(stamps.dropna().unique()).sort_values()
    return len(unique) >= 3 and pd.DatetimeIndex(unique, freq="infer").freq is not None


def _unparsed_hint(column: pd.Series, stamps: pd.Series) -> str:
    """What to do about the first time that did not parse: a time that reads alone but not among the others mixes
    a UTC offset with times without one (pandas reads a column on one clock)."""
    bad = stamps.isna().to_numpy()
    if not bad.any() or _numeric(column):
        return "use ISO dates such as 2024-01-31 13:00"
    try:
        alone = pd.Timestamp(str(column.iloc[int(np.argmax(bad))]))
    except (ValueError, TypeError):
        return "use ISO dates such as 2024-01-31 13:00"
    if alone is not pd.NaT and (alone.tzinfo is None) != all(s.tzinfo is None for s in stamps.dropna()):
        return ("the column mixes times with a UTC offset (e.g. +02:00) and times without one: write every time "
                "the same way")  # fmt: skip
    return "use ISO dates such as 2024-01-31 13:00"


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _years(part: pd.DataFrame, time_col: str, name: str) -> pd.Series:
    """A numeric time column: whole years 1000-2999 are yearly dates (1980 -> 1980-01-01, frequency YS); any
    other number is refused (pandas would read it as nanoseconds since 1970).

    >>> _years(pd.DataFrame({"year": [1980, 1981]}), "year", "<data>").dt.year.tolist()
    [1980, 1981]
    """
    values = pd.to_numeric(part[time_col], errors="coerce").astype("float64")
    year = values.notna() & (values % 1 == 0) & (values >= 1000) & (values <= 2999)
    bad = ~year & values.notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"numeric time value {part[time_col].iloc[i]} is not a year (1000-2999)", path=name,
            line=int(part["__row__"].iloc[i]), column=time_col,
            hint="write dates like 1980-01-01, or omit --time-col to use the row order",
        )  # fmt: skip
    text = values.map(lambda v: "" if np.isnan(v) else f"{int(v):04d}")
    return pd.to_datetime(text, format="%Y", errors="coerce")


def _regular(part: pd.DataFrame, stamps: pd.DatetimeIndex, time_col: str, name: str, fill: str | None,
             freq: str | None) -> tuple[pd.DataFrame, pd.DatetimeIndex, str | None]:  # fmt: skip
    """Check the steps are regular; with a fill policy, insert the missing steps (as NaN rows)."""
    if len(stamps) < 3:
        return part, stamps, freq
    if freq is None and _mid_month(stamps):
        raise DataError(f"the rows are monthly, each on day {stamps[0].day} of its month: rnnlab's monthly grids are "
                        "the first (MS) or the last day (ME) of each month", path=name, column=time_col,
                        hint="date each row by the first day of its month (e.g. 2000-03-01)")  # fmt: skip
    step = freq or _infer_step(stamps)
    full = pd.date_range(stamps[0], stamps[-1], freq=step)
    off_grid = ~stamps.isin(full)
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        raise DataError(f"timestamp {stamps[i]} is off the {step} grid", path=name, column=time_col,
                        line=int(part["__row__"].iloc[i]), hint="resample the series first")  # fmt: skip
    holes = full.difference(stamps)
    if len(holes):
        if fill is None:
            after = int(np.searchsorted(stamps, holes[0]))  # the row just after the first gap (rows are sorted)
            raise DataError(
                f"{len(holes)} missing time step(s) at frequency {step}, the first at {holes[0]} "
                f"(before {stamps[after]})",
                path=name,
                column=time_col,
                line=int(part["__row__"].iloc[after]),
                hint="fit with --fill ffill|interpolate|zero (the model then fills the same way at predict), or "
                "fill the gap in the file",
            )
        part = part.set_index(stamps).reindex(full)
        stamps = full
    return part, stamps, str(step)


def _mid_month(stamps: pd.DatetimeIndex) -> bool:
    """Whether ``stamps`` fall on one day of the month other than the first or the last, a month or so apart
    (no pandas frequency names that grid, so it would be reported as off a grid of hours)."""
    days = set(stamps.day)
    if len(days) != 1 or 1 in days or (stamps.is_month_end.all()):
        return False
    months = stamps.year * 12 + stamps.month
    return bool(np.median(np.diff(months)) == 1)


def _infer_step(stamps: pd.DatetimeIndex) -> str:
    """The frequency of sorted, unique ``stamps``: pandas' inference, or with gaps the step (among those of
    three consecutive rows, and the most common difference) that puts the most stamps on its grid with
    the fewest holes: months and years have no fixed length in hours, so a fixed step cannot be used."""
    inferred = pd.DatetimeIndex(stamps, freq="infer").freq
    if inferred is not None:
        return inferred.freqstr
    span, limit = stamps[-1] - stamps[0], 10 * len(stamps) + 10  # grids with far more holes than rows: not tried
    mode = stamps.to_series().diff().mode().iloc[0]
    candidates = {pd.tseries.frequencies.to_offset(mode).freqstr: mode}
    for i in np.unique(np.linspace(0, len(stamps) - 3, num=min(len(stamps) - 2, 25)).astype(int)):
        f = pd.infer_freq(stamps[i : i + 3])  # three consecutive rows without a gap name the step exactly
        if f is not None:
            candidates.setdefault(f, (stamps[i + 2] - stamps[i]) / 2)
    best, score = next(iter(candidates)), None  # the most common step, if no other is better
    for f, size in candidates.items():
        if span / size > limit:
            continue
        grid = pd.date_range(stamps[0], stamps[-1], freq=f)
        fit = (int((~stamps.isin(grid)).sum()), len(grid))  # the fewest stamps off its grid, then the fewest holes
        if score is None or fit < score:
            best, score = f, fit
    return best


def _values(part: pd.DataFrame, cols: list[str], name: str, fill: str | None) -> np.ndarray:
    frame = part[cols].reset_index(drop=True)
    nan = frame.isna().to_numpy()
    if nan.any():
        if fill is None:
            r, c = np.argwhere(nan)[0]
            row = part["__row__"].iloc[r]
            raise DataError("missing value", path=name, line=None if pd.isna(row) else int(row), column=cols[c],
                            hint="fill the cell, or fit with --fill ffill|interpolate|zero (the model then fills "
                            "the same way at predict)")  # fmt: skip
        frame = _fill(frame, fill)
        empty = [c for c in cols if frame[c].isna().all()]  # ffill/interpolate need one value to start from
        if empty:
            raise DataError(
                f"column {empty[0]!r} holds no value at all, so --fill {fill} has nothing to fill from",
                path=name,
                column=empty[0],
                hint="give the column values, or drop it from --target/--features",
            )
    return frame.to_numpy(dtype=np.float32)


def _fill(frame: pd.DataFrame, fill: str) -> pd.DataFrame:
    if fill == "ffill":
        return frame.ffill().bfill()
    if fill == "interpolate":
        return frame.interpolate(limit_direction="both")
    if fill == "zero":
        return frame.fillna(0.0)
    raise ValueError(f"fill must be one of {list(FILLS)}, received {fill!r}")


def read_m4_wide(path: str | Path) -> list[np.ndarray]:
    """The M4 competition's wide CSV ("V1" = id, then values, padded with empty fields) -> one array per series."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path, hint="the M4 files are Hourly-train.csv / Hourly-test.csv")
    df = pd.read_csv(path, index_col=0)
    return [row.dropna().to_numpy(dtype=np.float64) for _, row in df.iterrows()]
