"""Issue 22, rows 7, 8, 9 and 14 (forecasting): non-finite values, short or wrong-frequency histories, monthly
gaps, empty and non-UTF-8 files, models with NaN weights: each a one-line error naming the file, row and column
(or the model directory) and the fix, exit 1 through the CLI; never a NaN forecast or a traceback."""

import numpy as np
import pandas as pd
import pytest
import torch
from cli_runner import cli, refused

from rnnlab.data.scaling import Standardizer
from rnnlab.data.series import read_series
from rnnlab.errors import DataError, ModelFileError
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.training import TrainConfig

WIDTH, HORIZON = 12, 3


def monthly(n=60, start="1949-01-01", freq="MS"):
    dates = pd.date_range(start, periods=n, freq=freq)
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "y": 100 + 10 * np.sin(np.arange(n) * np.pi / 6)})


def write(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def model(tmp_path):
    """An untrained monthly forecaster saved as `forecast fit` saves one (no training: the checks come first)."""
    values = monthly()[["y"]].to_numpy(dtype=np.float32)
    f = Forecaster(ForecastConfig(model="dense", input_width=WIDTH, horizon=HORIZON, hidden_size=4), TrainConfig())
    f.scaler = Standardizer.fit([values])
    settings = {
        "time_col": "date",
        "targets": ["y"],
        "features": [],
        "series_col": None,
        "fill": None,
        "calendar": [],
        "freq": "MS",
        "columns": ["y"],
    }
    return f.save(tmp_path / "model", extra=settings)


# --- row 7: non-finite numbers ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "what"), [("inf", "is infinite"), ("-inf", "is infinite"), ("1e308", "too large for float32")]
)
def test_training_rows_with_inf_or_overflowing_values_are_refused(tmp_path, monkeypatch, capsys, value, what):
    frame = monthly().astype({"y": object})
    frame.loc[5, "y"] = value  # file row 7 (the header is row 1)
    path = write(tmp_path, frame)
    err = refused(
        monkeypatch,
        capsys,
        "forecast",
        "fit",
        path,
        "--time-col",
        "date",
        "--target",
        "y",
        "--input-width",
        WIDTH,
        "--horizon",
        HORIZON,
        "--model",
        "dense",
        "--epochs",
        "1",
        "--out",
        tmp_path / "m",
        "--no-progress",
    )
    assert f"data.csv:7:y: value {float(value)}" in err and what in err and "--fill" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("value", ["inf", "1e308", "-1e39"])
def test_history_with_inf_or_overflowing_values_is_refused(tmp_path, monkeypatch, capsys, model, value):
    frame = monthly(24).astype({"y": object})
    frame.loc[20, "y"] = value
    err = refused(
        monkeypatch,
        capsys,
        "forecast",
        "predict",
        write(tmp_path, frame),
        "--model",
        model,
        "--out",
        tmp_path / "f.csv",
    )
    assert "data.csv:22:y: value" in err
    assert not (tmp_path / "f.csv").exists()


def test_a_missing_value_keeps_its_fill_policy(tmp_path):
    frame = monthly(24)
    frame.loc[3, "y"] = np.nan
    with pytest.raises(DataError, match=r"data.csv:5:y: missing value .*--fill"):
        read_series(write(tmp_path, frame), time_col="date", targets=["y"])
    data = read_series(write(tmp_path, frame), time_col="date", targets=["y"], fill="ffill")
    assert np.isfinite(data.series[0].values).all()


def test_the_python_path_refuses_non_finite_training_values_and_histories():
    values = monthly()[["y"]].to_numpy(dtype=np.float32)
    with pytest.raises(ValueError, match=r"series 0: its training values hold inf at step 5, column 0"):
        Standardizer.fit([np.where(np.arange(60)[:, None] == 5, np.inf, values)])
    with pytest.raises(ValueError, match="values are too large"):  # finite, but the variance overflows
        Standardizer.fit([np.array([[1e200], [-1e200]])])
    f = Forecaster(ForecastConfig(model="dense", input_width=WIDTH, horizon=HORIZON, hidden_size=4))
    with pytest.raises(ValueError, match="hold nan at step 7"):
        f.fit_arrays([np.where(np.arange(60)[:, None] == 7, np.nan, values)])
    f.scaler = Standardizer.fit([values / 1e4])  # a std of ~7e-4: 1e38 scales past float32's range
    history = values[:WIDTH].copy()
    history[-2] = 1e38
    with pytest.raises(DataError, match=r"series 0 holds 1e\+38 at step 10, column 0"):
        f.predict_arrays([history])


def test_a_forecaster_with_nan_weights_is_a_model_error(tmp_path, monkeypatch, capsys, model):
    f = Forecaster.load(model)
    with torch.no_grad():
        next(f.net.parameters()).view(-1)[0] = float("nan")
    with pytest.raises(ModelFileError, match=r"1 non-finite weight"):
        f.predict_arrays([monthly(24)[["y"]].to_numpy(dtype=np.float32)])
    f.save(tmp_path / "nan", extra=f.data_settings)
    data = write(tmp_path, monthly(24))
    err = refused(
        monkeypatch, capsys, "forecast", "predict", data, "--model", tmp_path / "nan", "--out", tmp_path / "f.csv"
    )
    assert err.startswith(f"error: {tmp_path / 'nan'}: ") and "non-finite weight" in err
    assert not (tmp_path / "f.csv").exists()
    err = refused(monkeypatch, capsys, "forecast", "evaluate", data, "--model", tmp_path / "nan", "--json")
    assert "non-finite weight" in err


def test_a_classifier_with_nan_weights_is_a_model_error(tmp_path, monkeypatch, capsys):
    from rnnlab.classify.classifier import TextClassifier, TextConfig
    from rnnlab.classify.models import ClassifierConfig, TextClassifierNet
    from rnnlab.data.vocab import Vocabulary

    clf = TextClassifier(ClassifierConfig(vocab_size=6, hidden_size=4, embedding_dim=4), text=TextConfig(min_freq=1))
    clf.vocab, clf.labels = Vocabulary.build([["a", "fine", "film"]]), ["negative", "positive"]
    clf.net = TextClassifierNet(clf.config)  # no training needed: the weights are what is tested
    with torch.no_grad():
        next(clf.net.parameters()).fill_(float("nan"))
    clf.save(tmp_path / "clf")
    with pytest.raises(ModelFileError, match=r"the classifier's probabilities are not finite"):
        clf.predict_proba(["a fine film"])  # weights gone bad in memory: refused when predicting
    with pytest.raises(ModelFileError, match=r"clf: the network holds 24 non-finite weight"):
        TextClassifier.load(tmp_path / "clf")  # in the file: refused at load (issue 22, third round)
    err = refused(monkeypatch, capsys, "classify", "predict", "a fine film", "--model", tmp_path / "clf")
    assert f"{tmp_path / 'clf'}: " in err and "non-finite weight" in err and "NaN" in err


# --- row 8: histories the model cannot read -------------------------------------------------------
@pytest.mark.parametrize("rows", [1, 5, WIDTH - 1])
def test_a_history_shorter_than_the_window_is_refused(tmp_path, monkeypatch, capsys, model, rows):
    err = refused(
        monkeypatch,
        capsys,
        "forecast",
        "predict",
        write(tmp_path, monthly(rows)),
        "--model",
        model,
        "--out",
        tmp_path / "f.csv",
    )
    assert f"data.csv: the data has {rows} row(s); the model reads the last {WIDTH}" in err
    assert f"give at least {WIDTH} rows" in err and not (tmp_path / "f.csv").exists()
    with pytest.raises(DataError, match=f"has {rows} step"):
        Forecaster.load(model).predict_arrays([np.ones((rows, 1), dtype=np.float32)])


def test_a_history_of_another_frequency_is_refused(tmp_path, monkeypatch, capsys, model):
    minutes = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=50, freq="min"), "y": np.arange(50.0)})
    err = refused(
        monkeypatch,
        capsys,
        "forecast",
        "predict",
        write(tmp_path, minutes),
        "--model",
        model,
        "--out",
        tmp_path / "f.csv",
    )
    assert "frequency is min, the model was fitted on MS data" in err and "resample the series to MS" in err
    code, _, err = cli(
        monkeypatch,
        capsys,
        "forecast",
        "predict",
        write(tmp_path, monthly(24), "ok.csv"),
        "--model",
        model,
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 0, err
    assert pd.read_csv(tmp_path / "f.csv")["date"].tolist()[0] == "1951-01-01"  # the input's own column name


# --- row 9: monthly gaps --------------------------------------------------------------------------
@pytest.mark.parametrize(("freq", "missing"), [("MS", "1954-11-01"), ("ME", "1954-11-30")])
def test_a_monthly_gap_names_its_row_and_can_be_filled(tmp_path, freq, missing):
    frame = monthly(100, freq=freq).drop(index=70)  # the row after the gap is file row 72
    path = write(tmp_path, frame)
    with pytest.raises(
        DataError,
        match=rf"data.csv:72:date: 1 missing time step\(s\) at frequency {freq}, "
        rf"the first at {missing}.*--fill",
    ):
        read_series(path, time_col="date", targets=["y"])
    data = read_series(path, time_col="date", targets=["y"], fill="interpolate")
    assert data.freq == freq and len(data.series[0]) == 100
    assert str(pd.Timestamp(data.series[0].times[70]).date()) == missing


def test_a_timestamp_really_off_a_monthly_grid_is_named(tmp_path):
    frame = monthly(40)
    frame.loc[30, "date"] = "1951-07-15"
    with pytest.raises(DataError, match=r"data.csv:32:date: timestamp 1951-07-15 00:00:00 is off the MS grid"):
        read_series(write(tmp_path, frame), time_col="date", targets=["y"], fill="ffill")


# --- row 14: empty and non-UTF-8 files --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "data.csv: the file is empty"),
        ("\n\n", "data.csv: the file is empty"),
        ("date,y\n", "data.csv:1: no data rows (only a header)"),
    ],
)
def test_empty_and_header_only_files_name_the_file(tmp_path, monkeypatch, capsys, model, text, message):
    path = tmp_path / "data.csv"
    path.write_text(text)
    err = refused(monkeypatch, capsys, "forecast", "predict", path, "--model", model, "--out", tmp_path / "f.csv")
    assert message in err
    err = refused(
        monkeypatch,
        capsys,
        "forecast",
        "fit",
        path,
        "--time-col",
        "date",
        "--target",
        "y",
        "--out",
        tmp_path / "m",
        "--no-progress",
    )
    assert message in err


def test_a_latin1_file_names_the_line_and_says_to_save_as_utf8(tmp_path, monkeypatch, capsys, model):
    path = tmp_path / "data.csv"
    path.write_bytes("date,y,note\n1949-01-01,1,ok\n1949-02-01,2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"data.csv:3:17: byte 0xe9 is not UTF-8 .*save the file as UTF-8"):
        read_series(path, time_col="date", targets=["y"])
    err = refused(monkeypatch, capsys, "forecast", "predict", path, "--model", model, "--out", tmp_path / "f.csv")
    assert "data.csv:3:17: byte 0xe9 is not UTF-8" in err


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("\ufeffdate,y\n2024-01-01,1\n2024-01-02,2\n".encode())
    assert read_series(path, time_col="date", targets=["y"]).series[0].values[:, 0].tolist() == [1.0, 2.0]
