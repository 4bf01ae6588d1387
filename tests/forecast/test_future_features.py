"""Columns known in advance (issue 25, point 3): `--future-features` reads them over the forecast steps; predict
takes their values for those steps in rows after the history, and refuses a file without them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import ConfigError, DataError
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.training import TrainConfig

H = 4


def promotions(n=900, seed=0):
    """Sales = a daily-ish cycle + 5 on the days of a promotion, planned at random (so only a model that knows the
    plan can forecast the jumps)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    promo = (rng.random(n) < 0.3).astype(float)
    sales = 10 + np.sin(2 * np.pi * t / 12) + 5 * promo + rng.normal(scale=0.2, size=n)
    return pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=n, freq="h"), "promo": promo, "sales": sales})


def with_plan(history: pd.DataFrame, plan: list[float]) -> pd.DataFrame:
    """The history, then one row per forecast step: its time, the planned promotion, the target left empty."""
    times = pd.date_range(history["ds"].iloc[-1], periods=len(plan) + 1, freq="h")[1:]
    return pd.concat([history, pd.DataFrame({"ds": times, "promo": plan, "sales": np.nan})], ignore_index=True)


@pytest.fixture(scope="module")
def fitted():
    df = promotions()
    config = ForecastConfig(model="dense", input_width=24, horizon=H, hidden_size=32)
    known = Forecaster(config, TrainConfig(max_epochs=8, lr=1e-2, seed=0, patience=None))
    known.fit(df, target="sales", future_features=["promo"])
    blind = Forecaster(config, TrainConfig(max_epochs=8, lr=1e-2, seed=0, patience=None))
    blind.fit(df, target="sales", features=["promo"])  # the same column, seen only in the past
    return df, known, blind


def test_a_known_plan_moves_the_forecast_where_the_promotions_are(fitted):
    df, known, _ = fitted
    history = df.iloc[:600]
    up = known.predict(with_plan(history, [1.0, 0.0, 1.0, 0.0]))["sales"].to_numpy()
    down = known.predict(with_plan(history, [0.0, 1.0, 0.0, 1.0]))["sales"].to_numpy()
    jump = (up - down) * np.array([1, -1, 1, -1])
    assert (jump > 3).all(), (up, down)  # about the +5 a promotion brings
    assert known.data_settings["columns"][-1] == "promo+4"


def test_knowing_the_plan_beats_seeing_only_the_past_on_later_windows(fitted):
    _, known, blind = fitted
    later = promotions(seed=1)  # another draw of the same process, never trained on
    k, b = known.evaluate(later), blind.evaluate(later)
    assert k["mse"] < 0.3 * b["mse"], (k, b)


def test_predict_refuses_data_without_the_planned_values(fitted):
    df, known, _ = fitted
    with pytest.raises(DataError, match=r"\['promo'\] not found.*--future-features"):
        known.predict(df.drop(columns="promo").iloc[:100])
    with pytest.raises(DataError, match=r"0 row\(s\) after its history.*next 4 values"):
        known.predict(df.iloc[:100])  # the history alone: no plan for the steps ahead
    plan = with_plan(df.iloc[:100], [1.0, None, 0.0, 1.0])
    with pytest.raises(DataError, match="empty value in a column known in advance") as caught:
        known.predict(plan)
    assert caught.value.line == 103 and caught.value.column == "promo"  # the header is row 1


def test_a_column_is_known_in_advance_or_observed_not_both():
    df = promotions(100)
    f = Forecaster(ForecastConfig(model="dense", input_width=8, horizon=2), TrainConfig(max_epochs=1))
    with pytest.raises(ConfigError, match="also given as --target or --features"):
        f.fit(df, target="sales", features=["promo"], future_features=["promo"])


def test_the_cli_fits_predicts_evaluates_and_exports_with_a_plan(tmp_path):
    df = promotions(400)
    df.to_csv(tmp_path / "sales.csv", index=False)
    with_plan(df.iloc[:300], [1.0, 0.0, 0.0, 1.0]).to_csv(tmp_path / "plan.csv", index=False)
    runner = CliRunner()
    fit = ["forecast", "fit", str(tmp_path / "sales.csv"), "--time-col", "ds", "--target", "sales",
           "--future-features", "promo", "--model", "gru", "--input-width", "24", "--horizon", str(H),
           "--hidden-size", "8", "--max-epochs", "1", "--no-progress", "--out", str(tmp_path / "m")]  # fmt: skip
    result = runner.invoke(app, fit)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["forecast", "predict", str(tmp_path / "plan.csv"), "--model", str(tmp_path / "m"),
                                 "--output", str(tmp_path / "f.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "f.csv")
    assert out["ds"].tolist() == [str(t) for t in pd.date_range(df["ds"].iloc[299], periods=H + 1, freq="h")[1:]]
    result = runner.invoke(app, ["forecast", "predict", str(tmp_path / "sales.csv"), "--model", str(tmp_path / "m"),
                                 "--output", str(tmp_path / "g.csv")])  # fmt: skip
    assert isinstance(result.exception, DataError) and "after its history" in str(result.exception)
    result = runner.invoke(app, ["forecast", "evaluate", str(tmp_path / "sales.csv"), "--model",
                                 str(tmp_path / "m"), "--start-row", "300", "--json"])  # fmt: skip
    assert result.exit_code == 0 and "mse" in json.loads(result.output.strip().splitlines()[-1])
    result = runner.invoke(app, [*fit[:-1], str(tmp_path / "m2"), "--features", "promo"])
    assert isinstance(result.exception, ConfigError) and "also given as --target or --features" in str(result.exception)
    from rnnlab.export import export_onnx

    report = export_onnx(tmp_path / "m", tmp_path / "m.onnx", data=tmp_path / "sales.csv")
    assert report["parity"] == "passed" and report["inputs"]["x"][1:] == [24, 2]


def test_the_service_takes_the_plan_in_rows_after_the_history(fitted, tmp_path):
    from rnnlab.serving.tasks import load_served

    df, known, _ = fitted
    known.save(tmp_path / "m")
    served = load_served("sales", tmp_path / "m")
    answer = served.predict([with_plan(df.iloc[:200], [1.0, 0.0, 1.0, 0.0]).to_csv(index=False)])[0]
    local = known.predict(with_plan(df.iloc[:200], [1.0, 0.0, 1.0, 0.0]))
    np.testing.assert_allclose(answer["series"][0]["forecast"]["sales"], local["sales"], rtol=1e-5)
    with pytest.raises(DataError, match="after its history"):
        served.predict([df.iloc[:200].to_csv(index=False)])
