"""Issue 22, the third round of probing, on the forecaster: each series scaled with the statistics of the fitted
series of its id (not of its row's position), a series the model never saw refused in one line."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import cli, refused

from rnnlab.errors import DataError


def long_csv(path, series: list[tuple[str, float]]):
    """60 hourly rows per series: a sine around each series' own level."""
    rows = [(f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00:00", sid, round(level + math.sin(i / 5), 3))
            for sid, level in series for i in range(60)]  # fmt: skip
    pd.DataFrame(rows, columns=["date", "sid", "y"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def two_series(tmp_path_factory):
    """A model fitted (without RevIN, so that the scaling shows) on series a (level 0) and b (level 100)."""
    root = tmp_path_factory.mktemp("p3")
    ab = long_csv(root / "ab.csv", [("a", 0), ("b", 100)])
    from typer.testing import CliRunner

    from rnnlab.cli.main import app

    result = CliRunner().invoke(app, ["forecast", "fit", str(ab), "--time-col", "date", "--series-col", "sid",
                                      "--target", "y", "--input-width", "8", "--horizon", "2", "--hidden-size", "4",
                                      "--max-epochs", "1", "--no-revin", "--out", str(root / "m"),
                                      "--no-progress", "--seed", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def test_a_subset_of_the_series_is_scaled_by_id_not_by_position(two_series, tmp_path, monkeypatch, capsys):
    # before: b alone took a's scaling (row 0) and was forecast near 0.25 instead of near 100
    b_only = long_csv(tmp_path / "b.csv", [("b", 100)])
    ba = long_csv(tmp_path / "ba.csv", [("b", 100), ("a", 0)])  # the fit's order reversed
    outs = {}
    for name, data in (("ab", two_series / "ab.csv"), ("b", b_only), ("ba", ba)):
        code, _, err = cli(monkeypatch, capsys, "forecast", "predict", data, "--model", two_series / "m",
                           "--output", tmp_path / f"p_{name}.csv")  # fmt: skip
        assert code == 0, err
        frame = pd.read_csv(tmp_path / f"p_{name}.csv")
        outs[name] = {sid: part["y"].to_numpy() for sid, part in frame.groupby("sid")}
    assert outs["ab"]["b"].mean() > 90
    np.testing.assert_allclose(outs["b"]["b"], outs["ab"]["b"], rtol=1e-6)
    np.testing.assert_allclose(outs["ba"]["b"], outs["ab"]["b"], rtol=1e-6)
    np.testing.assert_allclose(outs["ba"]["a"], outs["ab"]["a"], rtol=1e-6)


def test_evaluate_scales_by_id_too(two_series, tmp_path):
    from rnnlab.forecast.forecaster import Forecaster

    f = Forecaster.load(two_series / "m")
    assert f.series_ids == ["a", "b"]
    both = f.evaluate(two_series / "ab.csv")
    alone = f.evaluate(long_csv(tmp_path / "b.csv", [("b", 100)]))
    assert alone["data_mae"] < 10 * both["data_mae"] + 1  # before: b measured against a's scale, errors near 100


def test_an_unknown_series_is_a_one_line_error(two_series, tmp_path, monkeypatch, capsys):
    # before: IndexError: list index out of range (a traceback; over HTTP a 500)
    abc = long_csv(tmp_path / "abc.csv", [("a", 0), ("b", 100), ("c", 50)])
    err = refused(monkeypatch, capsys, "forecast", "predict", abc, "--model", two_series / "m",
                  "--output", tmp_path / "p.csv")  # fmt: skip
    assert "'c'" in err and "not among the 2" in err and "abc.csv" in err
    assert not (tmp_path / "p.csv").exists()
    err = refused(monkeypatch, capsys, "forecast", "evaluate", abc, "--model", two_series / "m")
    assert "'c'" in err


def test_over_http_an_unknown_series_is_422(two_series, tmp_path):
    pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi")
    from fastapi.testclient import TestClient

    from rnnlab.serving import create_app

    abc = long_csv(tmp_path / "abc.csv", [("a", 0), ("b", 100), ("c", 50)]).read_text()
    b_only = long_csv(tmp_path / "b.csv", [("b", 100)]).read_text()
    with TestClient(create_app({"m": two_series / "m"}), raise_server_exceptions=False) as client:
        bad = client.post("/v1/models/m/predict", json={"csv": abc})
        assert bad.status_code == 422, bad.text
        assert "'c'" in bad.text
        good = client.post("/v1/models/m/predict", json={"csv": b_only})
        assert good.status_code == 200, good.text
        assert np.mean(good.json()["results"][0]["series"][0]["forecast"]["y"]) > 90


def test_a_model_saved_without_its_series_ids_still_loads(two_series, tmp_path):
    import shutil

    from rnnlab.forecast.forecaster import SETTINGS_FILE, Forecaster

    old = tmp_path / "old"
    shutil.copytree(two_series / "m", old)
    settings = json.loads((old / SETTINGS_FILE).read_text())
    del settings["series_ids"]
    (old / SETTINGS_FILE).write_text(json.dumps(settings))
    f = Forecaster.load(old)
    assert f.series_ids is None
    new = Forecaster.load(two_series / "m").predict(two_series / "ab.csv")
    pd.testing.assert_frame_equal(f.predict(two_series / "ab.csv"), new)  # the fit's series, in its order
    with pytest.raises(DataError, match="saved without their ids"):  # a subset cannot be matched by position
        f.predict(long_csv(tmp_path / "b.csv", [("b", 100)]))


def years_csv(path, first: int = 1980, n: int = 40):
    pd.DataFrame({"year": range(first, first + n), "sales": [100 + 10 * math.sin(i) + i for i in range(n)]}).to_csv(
        path, index=False
    )
    return path


def test_a_column_of_years_is_read_as_yearly_dates_and_written_back_as_years(tmp_path, monkeypatch, capsys):
    # before: 1980 was read as 1980 ns after 1970-01-01, the saved freq was "ns", the forecasts were dated
    # 1970-01-01 00:00:00.000002020
    from rnnlab.data.series import read_series

    data = years_csv(tmp_path / "years.csv")
    series = read_series(data, time_col="year", targets=["sales"])
    assert series.freq == "YS-JAN" and series.years
    assert pd.Timestamp(series.series[0].times[0]) == pd.Timestamp("1980-01-01")
    code, _, err = cli(monkeypatch, capsys, "forecast", "fit", data, "--time-col", "year", "--target", "sales",
                       "--input-width", "6", "--horizon", "2", "--hidden-size", "4", "--max-epochs", "1",
                       "--out", tmp_path / "m", "--no-progress")  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "m" / "forecaster.json").read_text())["data"]["freq"] == "YS-JAN"
    code, _, err = cli(monkeypatch, capsys, "forecast", "predict", data, "--model", tmp_path / "m",
                       "--output", tmp_path / "p.csv")  # fmt: skip
    assert code == 0, err
    assert pd.read_csv(tmp_path / "p.csv")["year"].tolist() == [2020, 2021]
    code, _, err = cli(monkeypatch, capsys, "forecast", "predict", data, "--model", tmp_path / "m",
                       "--output", tmp_path / "p.json")  # fmt: skip
    answer = json.loads((tmp_path / "p.json").read_text())["series"][0]
    assert answer["forecast"]["time"] == [2020, 2021] and answer["history"]["time"][-1] == 2019


@pytest.mark.parametrize("values", [[20240101, 20240102, 20240103], [0, 1, 2], [1980.5, 1981.5, 1982.5]],
                         ids=["yyyymmdd", "step-numbers", "fractions"])  # fmt: skip
def test_numbers_that_are_not_years_are_refused_in_a_line(tmp_path, values):
    # before: read as nanoseconds since 1970
    from rnnlab.data.series import read_series

    path = tmp_path / "t.csv"
    pd.DataFrame({"t": values, "y": [1.0, 2.0, 3.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"t\.csv:2:t: numeric time value .* is not a year") as exc:
        read_series(path, time_col="t", targets=["y"])
    assert "omit --time-col to use the row order" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("plot", ["same.png", "./sub/../same.png", "link.png"], ids=["same", "spelled", "hard-link"])
def test_output_and_plot_naming_one_file_are_refused_before_writing(two_series, tmp_path, monkeypatch, capsys, plot):
    # before: "wrote same.png and same.png", exit 0, and the forecasts replaced by the plot
    monkeypatch.chdir(tmp_path)
    (tmp_path / "same.png").write_text("kept")
    (tmp_path / "link.png").hardlink_to(tmp_path / "same.png")
    err = refused(monkeypatch, capsys, "forecast", "predict", two_series / "ab.csv", "--model", two_series / "m",
                  "--output", "same.png", "--plot", plot, "--overwrite")  # fmt: skip
    assert "are the same file" in err
    assert (tmp_path / "same.png").read_text() == "kept"


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n"], ids=["lf", "cr", "crlf"])
def test_the_row_limit_counts_rows_as_the_csv_reader_does(two_series, newline):
    # before: rows counted by "\n" only, so rows separated by a lone "\r" passed --max-rows whatever their number
    pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi")
    from fastapi.testclient import TestClient

    from rnnlab.serving import Limits, create_app

    lines = (two_series / "ab.csv").read_text().splitlines()  # a header and 120 rows
    app = create_app({"m": two_series / "m"}, limits=Limits(max_csv_rows=100))
    with TestClient(app, raise_server_exceptions=False) as client:
        over = client.post("/v1/models/m/predict", json={"csv": newline.join(lines) + newline})
        assert over.status_code == 413 and "limit is 100" in over.text, over.text
        under = client.post("/v1/models/m/predict", json={"csv": newline.join(lines[:61]) + newline})  # a only
        assert under.status_code == 200, under.text


def test_a_negative_start_row_is_a_usage_error():
    """`forecast evaluate --start-row -5` was taken as 0 (the first window), silently."""
    from typer.testing import CliRunner

    from rnnlab.cli.main import app

    result = CliRunner().invoke(app, ["forecast", "evaluate", "data.csv", "--model", "m", "--start-row", "-5"])
    assert result.exit_code == 2 and "--start-row" in result.output
