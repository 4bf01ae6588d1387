"""Reading and validating series: every problem names the file, the row and the column."""

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.series import read_m4_wide, read_series
from rnnlab.errors import DataError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_one_series_hourly(tmp_path):
    path = write(tmp_path, "date,y,x\n2024-01-01 00:00,1,5\n2024-01-01 01:00,2,6\n2024-01-01 02:00,3,7\n")
    data = read_series(path, time_col="date", targets=["y"], features=["x"])
    assert data.freq == "h" and data.columns == ["y", "x"]
    assert data.series[0].values.tolist() == [[1, 5], [2, 6], [3, 7]]


def test_rows_are_sorted_by_time(tmp_path):
    path = write(tmp_path, "date,y\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n")
    assert read_series(path, time_col="date", targets=["y"]).series[0].values[:, 0].tolist() == [1, 2, 3]


def test_many_series_long_format():
    df = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "ds": list(pd.date_range("2024-01-01", periods=3)) * 2,
                       "y": [1.0, 2, 3, 10, 20, 30]})  # fmt: skip
    data = read_series(df, time_col="ds", targets=["y"], series_col="id")
    assert [s.id for s in data.series] == ["a", "b"] and data.series[1].values[:, 0].tolist() == [10, 20, 30]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("date,y\n2024-01-01,1\nsoon,2\n", r"data.csv:3 \(column date\)|data.csv:3:date: unparseable timestamp 'soon'"),
        ("date,y\n2024-01-01,1\n2024-01-01,2\n", r"data.csv:3:date: duplicated timestamp"),
        ("date,y\n2024-01-01,1\n2024-01-02,abc\n", r"data.csv:3:y: non-numeric value 'abc'"),
        ("date,y\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n", r"data.csv:3:y: missing value .*--fill"),
        ("date,y\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n2024-01-05,5\n", r"1 missing time step\(s\) .* 2024-01-03"),
        ("date,z\n2024-01-01,1\n", r"column\(s\) \['y'\] not found; the columns are \['date', 'z'\]"),
    ],
)
def test_clear_errors(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        read_series(write(tmp_path, text), time_col="date", targets=["y"])


@pytest.mark.parametrize(("fill", "expected"), [("ffill", 2.0), ("interpolate", 3.0), ("zero", 0.0)])
def test_fill_policies(tmp_path, fill, expected):
    path = write(tmp_path, "date,y\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n2024-01-05,5\n")
    data = read_series(path, time_col="date", targets=["y"], fill=fill)
    assert data.series[0].values[:, 0].tolist() == [1, 2, expected, 4, 5]


def test_monthly_series_is_regular(tmp_path):
    dates = pd.date_range("1949-01-01", periods=24, freq="MS").strftime("%Y-%m-%d")
    path = write(tmp_path, "date,value\n" + "\n".join(f"{d},{i}" for i, d in enumerate(dates)) + "\n")
    assert read_series(path, time_col="date", targets=["value"]).freq == "MS"


def test_missing_file_and_m4_wide(tmp_path):
    with pytest.raises(DataError, match=r"nothing\.csv: file not found"):
        read_series(tmp_path / "nothing.csv", time_col="date", targets=["y"])
    path = write(tmp_path, '"V1","V2","V3","V4"\n"H1",1,2,3\n"H2",4,5,\n', "Hourly-train.csv")
    series = read_m4_wide(path)
    assert [s.tolist() for s in series] == [[1, 2, 3], [4, 5]] and series[0].dtype == np.float64
