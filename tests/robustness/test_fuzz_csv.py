"""Issue 22: the series CSV reader fuzzed with hypothesis. Random bytes, other encodings, NaN/inf/huge values,
shuffled, duplicated and truncated lines: it returns a valid series (finite float32 values on a regular grid) or
raises an rnnlab error naming the file, never another exception."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rnnlab.data.series import read_series
from rnnlab.errors import RnnlabError

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "1e308",
            "-1e39",
            "3.4e38",
            "0x10",
            "1,5",
            "é",
            '"7"',
            "NULL",
            "  2 ",
            "1e-320",
        ]
    ),
    st.integers(-(10**40), 10**40).map(str),
)
DATES = st.one_of(
    st.integers(0, 400).map(lambda k: str(pd.Timestamp("2020-01-01") + pd.Timedelta(days=k))[:10]),
    st.integers(0, 40).map(lambda k: str((pd.Timestamp("1949-01-01") + pd.DateOffset(months=k)).date())),
    st.sampled_from(["", "soon", "2024-02-30", "9999-12-31", "0001-01-01", "2024-01-01T00:00:00+05:00", "1e10"]),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"])


@st.composite
def csv_texts(draw) -> bytes:
    """A plausible date,y file, then damaged: lines shuffled, duplicated, dropped or cut, fields added."""
    rows = [f"{draw(DATES)},{draw(VALUES)}" for _ in range(draw(st.integers(0, 30)))]
    if rows and draw(st.booleans()):
        rows = draw(st.permutations(rows))
    if rows and draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), draw(st.sampled_from(rows)) + draw(st.sampled_from(["", ",x"])))
    header = draw(st.sampled_from(["date,y", "date,y,z", "y,date", "date", "", "date;y", '"date","y"']))
    text = "\n".join([header, *rows]) + draw(st.sampled_from(["", "\n", "\r\n", "\n\n"]))
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # truncated anywhere, even inside a field
    return text.encode(draw(ENCODINGS), errors="replace")


def check(data: bytes, fill: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        try:
            result = read_series(path, time_col="date", targets=["y"], fill=fill)
        except RnnlabError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
            return
        for s in result.series:  # a valid series: finite float32 values, one per time step
            assert s.values.dtype == np.float32 and s.values.shape == (len(s.times), 1) and len(s) > 0
            assert np.isfinite(s.values).all()


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([None, "ffill"]))
def test_random_bytes(data, fill):
    check(data, fill)


@FUZZ
@given(csv_texts(), st.sampled_from([None, "ffill", "interpolate", "zero"]))
@example(b"date,y\n2", "ffill")  # found by the fuzzer: a column with no value at all, nothing to fill from (NaN)
@example(b"", None)
@example("date,y\n2024-01-01,caf\xe9".encode("latin-1"), None)
def test_damaged_csv_files(data, fill):
    check(data, fill)
