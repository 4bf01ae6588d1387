"""Fifth probing round, second part (issue 22): what the probe found in the new forecasting inputs and model files.
Each test failed before its fix."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import DataError, DataWarning, ModelFileError
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.training import TrainConfig

H = 3


def sales(n=120, seed=0):
    rng = np.random.default_rng(seed)
    promo = (rng.random(n) < 0.4).astype(float)
    y = 10 + np.sin(np.arange(n) / 3) + 4 * promo + rng.normal(scale=0.1, size=n)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"), "promo": promo, "sales": y})


def plan(history: pd.DataFrame, values, start_offset=1) -> pd.DataFrame:
    times = pd.date_range(history["date"].iloc[-1] + pd.Timedelta(days=start_offset), periods=len(values), freq="D")
    return pd.concat([history, pd.DataFrame({"date": times, "promo": values, "sales": np.nan})], ignore_index=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    f = Forecaster(ForecastConfig(model="dense", input_width=8, horizon=H, hidden_size=8),
                   TrainConfig(max_epochs=2, seed=0, patience=None))  # fmt: skip
    f.fit(sales(), target="sales", time_col="date", future_features=["promo"])
    path = tmp_path_factory.mktemp("m") / "m"
    f.save(path)
    return f, path


def test_rows_out_of_time_order_are_read_in_time_order(model):
    f, _ = model
    ordered = plan(sales().iloc[:100], [1.0, 0.0, 0.0])
    shuffled = ordered.sample(frac=1.0, random_state=0)  # before the fix the leads followed the file's order
    np.testing.assert_allclose(f.predict(shuffled)["sales"], f.predict(ordered)["sales"], rtol=1e-6)


def test_forecast_rows_with_the_wrong_dates_are_refused(model):
    f, _ = model
    with pytest.raises(DataError, match="must follow the history at the model's frequency") as caught:
        f.predict(plan(sales().iloc[:100], [1.0, 0.0, 0.0], start_offset=5))  # a gap of four days
    assert caught.value.line == 102 and caught.value.column == "date"


def test_rows_beyond_the_horizon_are_named_not_silently_dropped(model):
    f, _ = model
    exact = f.predict(plan(sales().iloc[:100], [1.0, 0.0, 0.0]))
    with pytest.warns(DataWarning, match="5 rows after its history.*reads the first 3"):
        longer = f.predict(plan(sales().iloc[:100], [1.0, 0.0, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(longer["sales"], exact["sales"])


def test_a_series_without_history_is_refused():
    df = pd.concat([sales().assign(store="A"), sales(seed=1).assign(store="B")], ignore_index=True)
    f = Forecaster(ForecastConfig(model="dense", input_width=8, horizon=H, hidden_size=4),
                   TrainConfig(max_epochs=1, seed=0))  # fmt: skip
    f.fit(df, target="sales", time_col="date", series_col="store", future_features=["promo"])
    parts = [plan(df[df.store == s].drop(columns="store").iloc[:100], [1.0, 0.0, 0.0]).assign(store=s) for s in "AB"]
    future_only = plan(sales().iloc[:1], [0.0, 0.0, 0.0]).iloc[1:].assign(store="C")  # a new store, no past
    with pytest.raises(DataError, match="series 'C' has no history"):
        f.predict(pd.concat([*parts, future_only], ignore_index=True))


def test_a_filled_gap_at_predict_matches_the_daily_model():
    df = sales()
    f = Forecaster(ForecastConfig(model="dense", input_width=8, horizon=H, hidden_size=4),
                   TrainConfig(max_epochs=1, seed=0))  # fmt: skip
    f.fit(df, target="sales", time_col="date", fill="ffill")
    gap = df.drop(index=95)  # pandas 3 reads the gap's step as 24h, the model was fitted on D: the same step
    out = f.predict(gap)
    assert len(out) == H and np.isfinite(out["sales"]).all()


@pytest.mark.parametrize("std", [0.0, -3.0, "abc"])
def test_a_scaler_edited_to_a_non_positive_scale_is_refused(model, tmp_path, std):
    _, path = model
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(path, copy)
    settings = json.loads((copy / "forecaster.json").read_text())
    settings["scaler"]["std"] = [[std] * len(row) for row in settings["scaler"]["std"]]
    (copy / "forecaster.json").write_text(json.dumps(settings))
    with pytest.raises(ModelFileError, match=r"forecaster.json: scaler must hold .*std > 0"):
        Forecaster.load(copy)


def test_a_future_horizon_edited_away_from_the_model_s_horizon_is_refused(model, tmp_path):
    _, path = model
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(path, copy)
    settings = json.loads((copy / "forecaster.json").read_text())
    settings["data"]["future_horizon"] = -2
    (copy / "forecaster.json").write_text(json.dumps(settings))
    with pytest.raises(ModelFileError, match="future_horizon is -2, the model forecasts 3 steps"):
        Forecaster.load(copy)


def test_an_empty_text_gets_no_label(tmp_path):
    result = CliRunner().invoke(app, ["classify", "predict", "--model", "sentiment-en", "A fine film.", "   "])
    assert result.exit_code != 0 and "text argument 2 is empty" in str(result.exception)


def test_a_missing_column_message_lists_only_the_file_s_columns():
    from rnnlab.data.series import read_series

    with warnings.catch_warnings(), pytest.raises(DataError) as caught:
        read_series(sales(), time_col="date", targets=["units"])
    assert "__row__" not in str(caught.value)


def test_sigterm_during_a_fit_exits_143_with_one_message(tmp_path):
    """Before: Lightning turned the SIGTERM exit into its interrupt path, and the command printed 'terminated' and
    then 'interrupted (Ctrl-C)', exiting 130."""
    import os
    import signal
    import subprocess
    import sys
    import time

    data = tmp_path / "s.csv"
    pd.DataFrame({"y": np.sin(np.arange(400) / 5)}).to_csv(data, index=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RNNLAB_TUNE_MALLOC": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "rnnlab", "forecast", "fit", str(data), "--target", "y",
                             "--input-width", "8", "--horizon", "2", "--hidden-size", "4", "--max-epochs", "100000",
                             "--patience", "100000", "--no-progress", "--out", str(tmp_path / "m")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (tmp_path / "m.partial").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)  # inside the training loop
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert err.count("error:") == 1 and "terminated (SIGTERM)" in err and "Ctrl-C" not in err, err[-2000:]
    assert not (tmp_path / "m").exists()  # no half-written model


def test_a_semicolon_separated_file_gets_a_hint(tmp_path):
    from rnnlab.data.series import read_series

    (tmp_path / "excel.csv").write_text("date;value\n2024-01-01;1,5\n2024-01-02;2,5\n", encoding="utf-8")
    with pytest.raises(DataError, match="not comma-separated"):
        read_series(tmp_path / "excel.csv", time_col="date", targets=["value"])


def test_export_checks_parity_on_a_predict_format_file(model, tmp_path, monkeypatch, capsys):
    from cli_runner import cli, refused

    _, path = model
    data = tmp_path / "plan.csv"
    plan(sales().iloc[:100], [1.0, 0.0, 0.0]).to_csv(data, index=False)  # before the fix: "102:sales: missing value"
    code, out, err = cli(monkeypatch, capsys, "export", "--model", path, "--data", data, "--out", tmp_path / "m.onnx")
    assert code == 0 and "parity with PyTorch on plan.csv" in out, err
    gap = sales()
    gap.loc[50, "sales"] = np.nan  # a hole inside the history is still named as such
    gap.to_csv(data, index=False)
    err = refused(monkeypatch, capsys, "export", "--model", path, "--data", data, "--out", tmp_path / "n.onnx")
    assert "plan.csv:52:sales: missing value" in err
