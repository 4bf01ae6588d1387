"""Forecasting: windows, splits without leaks, baselines, metrics, networks, the Forecaster and its CLI."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.data.splits import WindowSplit
from rnnlab.data.windows import WindowSpec, calendar_features, make_windows
from rnnlab.errors import ConfigError, DataError
from rnnlab.forecast import LinearBaseline, last_value, repeat_last_window, seasonal_naive
from rnnlab.forecast.forecaster import Forecaster, objective
from rnnlab.forecast.models import ForecastConfig, ForecastNet, per_step_labels
from rnnlab.forecast.protocols import ett_borders
from rnnlab.metrics import mase, owa, smape
from rnnlab.nn.ensemble import Ensemble
from rnnlab.testing import check_model
from rnnlab.training import TrainConfig


def test_windows_match_a_python_loop():
    values = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    spec = WindowSpec(input_width=5, label_width=2, shift=3)
    x, y = make_windows(values, spec, inputs=[0, 1, 2], labels=[2])
    assert x.shape == (23, 5, 3) and y.shape == (23, 2, 1)
    for i in (0, 7, 22):
        np.testing.assert_array_equal(x[i], values[i : i + 5])
        np.testing.assert_array_equal(y[i, :, 0], values[i + 6 : i + 8, 2])
    x_late, _ = make_windows(values, spec, inputs=[0], labels=[2], start=20)
    assert len(x_late) == 30 - 8 + 1 - (20 - 6)  # first label at step >= 20
    with pytest.raises(ValueError, match="shorter than one window"):
        make_windows(values[:7], spec, inputs=[0], labels=[0])
    with pytest.raises(ConfigError, match="input_width must be a positive integer"):
        WindowSpec(0, 1, 1)


def test_calendar_features():
    times = np.array(["2024-01-01T00", "2024-01-01T06"], dtype="datetime64[h]")
    f = calendar_features(times, ["hour"])
    np.testing.assert_allclose(f, [[0, 1], [1, 0]], atol=1e-6)


def test_splits_never_train_on_a_test_label():
    spec = WindowSpec.forecast(input_width=10, horizon=5)
    for train, test in WindowSplit(n_splits=4, test_size=20, gap=2).split(200, spec):
        last_train_label = train.max() + spec.total_size - 1
        first_test_label = test.min() + spec.total_size - spec.label_width
        assert last_train_label < first_test_label - 2
    with pytest.raises(ValueError, match="do not fit"):
        list(WindowSplit(n_splits=10, test_size=50).split(200, spec))


def test_baselines():
    x = np.arange(48, dtype=np.float32).reshape(1, 48, 1)
    assert last_value(x, 2, [0]).tolist() == [[[47.0], [47.0]]]
    assert repeat_last_window(x, 3, [0])[0, :, 0].tolist() == [45.0, 46.0, 47.0]
    assert seasonal_naive(x, 30, [0], period=24)[0, [0, 23, 24], 0].tolist() == [24.0, 47.0, 24.0]
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(500, 8, 1))
    ys = xs[:, -3:, :] * 2.0 + 1.0  # an exactly linear map of the window
    lin = LinearBaseline(alpha=0.0).fit(xs, ys)
    np.testing.assert_allclose(lin.predict(xs), ys, atol=1e-4)


def test_m4_metrics():
    assert smape(np.array([100.0]), np.array([100.0])) == 0.0
    assert smape(np.array([1.0]), np.array([0.0])) == 200.0
    assert mase(np.array([5.0]), np.array([4.0]), np.arange(10.0), period=2) == pytest.approx(0.5)
    assert owa(10.0, 1.0, 20.0, 2.0) == 0.5
    with pytest.raises(ValueError, match="longer than the period"):
        mase(np.array([1.0]), np.array([1.0]), np.arange(3.0), period=24)


def test_ett_borders():
    b = ett_borders(96)
    assert b == {"train": (0, 8640), "val": (8544, 11520), "test": (11424, 14400)}


@pytest.mark.parametrize(
    "config",
    [
        ForecastConfig(model="dense", input_width=12, horizon=3, n_inputs=2, targets=(0,)),
        ForecastConfig(model="lstm", input_width=12, horizon=3, n_inputs=2, targets=(0, 1), revin=True),
        ForecastConfig(model="gru", input_width=12, horizon=3, n_inputs=2, targets=(0, 1), strategy="autoregressive"),
        ForecastConfig(model="rnn", input_width=12, horizon=3, n_inputs=2, targets=(1,), strategy="per_step"),
        ForecastConfig(model="lstm", input_width=12, horizon=3, n_inputs=1, bidirectional=True, num_layers=2),
        ForecastConfig(model="gru", input_width=12, horizon=3, n_inputs=3, targets=(0, 2), revin=True, highway=6),
        ForecastConfig(model="gru", input_width=12, horizon=3, n_inputs=2, targets=(1,), revin=True, patch=4),
    ],
    ids=["dense", "lstm-revin", "gru-autoregressive", "rnn-per-step", "bilstm", "gru-highway", "gru-patch"],
)
def test_networks_conform(config):
    x = torch.randn(4, 12, config.n_inputs)
    check_model(lambda: ForecastNet(config), (x,), (4, 3, len(config.targets)))


def test_highway_is_the_linear_part_of_the_forecast():
    config = ForecastConfig(model="gru", input_width=8, horizon=2, n_inputs=2, targets=(1,), highway=4, revin=False)
    net = ForecastNet(config).eval()
    x = torch.randn(3, 8, 2)
    with torch.no_grad():
        full = net(x)
        net.highway.weight.zero_()
        net.highway.bias.zero_()
        recurrent = net(x)
        net.highway.weight[:, -1] = 1.0  # each forecast step: the target's last value
    assert not torch.allclose(full, recurrent)
    with torch.no_grad():
        torch.testing.assert_close(net(x) - recurrent, x[:, -1:, 1:].expand(3, 2, 1))
    for bad in (dict(highway=9), dict(highway=2, strategy="per_step")):
        with pytest.raises(ConfigError, match="highway"):
            ForecastConfig(model="gru", input_width=8, **bad)


def test_patch_reads_the_window_segment_by_segment():
    config = ForecastConfig(model="lstm", input_width=6, horizon=2, n_inputs=2, patch=3)
    net = ForecastNet(config).eval()
    assert net.body.config.input_size == 6  # patch × n_inputs values per recurrent step
    x = torch.arange(12.0).view(1, 6, 2)
    segments = net._segments(x)
    assert segments.shape == (1, 2, 6)
    assert segments[0, 1].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]  # steps 3, 4, 5 with both columns
    seen = []
    handle = net.body.register_forward_hook(lambda module, args, output: seen.append(args[0].shape))
    net(torch.randn(5, 6, 2))
    handle.remove()
    assert seen == [torch.Size([5, 2, 6])]
    for bad in (dict(patch=4), dict(patch=3, model="dense"), dict(patch=3, strategy="per_step")):
        with pytest.raises(ConfigError, match="patch"):
            ForecastConfig(input_width=6, **bad)


def test_per_step_labels():
    x = torch.arange(5.0).view(1, 5, 1)
    y = torch.arange(5.0, 7.0).view(1, 2, 1)
    labels = per_step_labels(x, y, (0,))
    assert labels.shape == (1, 5, 2, 1) and labels[0, :, :, 0].tolist() == [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6]]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"model": "arima"}, "model must be one of"),
        ({"model": "dense", "strategy": "per_step"}, "needs a recurrent model"),
        ({"strategy": "autoregressive", "n_inputs": 2}, "inputs must be the targets"),
        ({"targets": (3,)}, "targets must index the 1 input columns"),
    ],
)
def test_bad_configs(kw, match):
    with pytest.raises(ConfigError, match=match):
        ForecastConfig(**kw)


def seasonal(n=400, period=12, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return (10 + 3 * np.sin(2 * np.pi * t / period) + 0.1 * rng.normal(size=n)).astype(np.float32)[:, None]


def test_forecaster_beats_last_value_and_round_trips(tmp_path):
    series = [seasonal(seed=0), seasonal(seed=1)]
    f = Forecaster(ForecastConfig(model="gru", input_width=24, horizon=6, hidden_size=16),
                   TrainConfig(max_epochs=15, lr=1e-2, seed=0, patience=5))  # fmt: skip
    f.fit_arrays(series)
    scores = f.evaluate_arrays(series, start=340)
    x, y = f._windows(series, start=340)
    assert scores["mse"] < 0.5 * np.mean((last_value(x, 6, [0]) - y) ** 2)
    pred = f.predict_arrays(series)
    assert pred.shape == (2, 6, 1) and abs(pred.mean() - 10) < 1.5  # back in the original units
    f.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_arrays(series), pred, rtol=1e-6)


def test_scaled_mae_weighs_every_window_alike():

    config = ForecastConfig(model="gru", input_width=8, horizon=2, revin=True, hidden_size=4)
    net = ForecastNet(config).eval()
    x = torch.randn(3, 8, 1) * torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1)  # three very different scales
    y = torch.randn(3, 2, 1)
    with torch.no_grad():
        loss = objective("scaled_mae").loss(net, (x, y))
        pred = net(x)
    std = x.std(1, unbiased=False, keepdim=True)
    expected = ((pred - y).abs() / torch.sqrt(std**2 + 1e-5)).mean()
    torch.testing.assert_close(loss, expected)
    assert not torch.allclose(loss, (pred - y).abs().mean())
    metrics = objective("scaled_mae").metrics(net, (x, y))
    assert set(metrics) == {"mse", "mae", "scaled_mae"} and objective("scaled_mae").monitor == "val_scaled_mae"
    per_step = ForecastNet(dataclasses.replace(config, strategy="per_step")).eval()
    with torch.no_grad():
        loss = objective("scaled_mae").loss(per_step, (x, y))
        every = per_step_labels(x, y, (0,))  # (B, T, H, K): each step's forecast scaled by its window's std
        every_step = per_step.outputs(x).every_step  # returned by the forward pass, never left on the module
        expected = ((every_step - every).abs() / torch.sqrt(std**2 + 1e-5)[:, :, None]).mean()
    torch.testing.assert_close(loss, expected)
    with pytest.raises(ValueError, match="revin=True"):
        Forecaster(ForecastConfig(model="gru", input_width=8, horizon=2, revin=False), loss="scaled_mae")
    with pytest.raises(ValueError, match="loss must be one of"):
        Forecaster(config, loss="huber")


def test_patched_gru_with_scaled_mae_learns_a_daily_pattern():
    series = [seasonal(480, 24, seed=0) * 3, seasonal(480, 24, seed=1)]
    f = Forecaster(ForecastConfig(model="gru", input_width=48, horizon=12, hidden_size=16, revin=True, patch=24),
                   TrainConfig(max_epochs=10, lr=1e-2, seed=0, patience=10), loss="scaled_mae")  # fmt: skip
    f.fit_arrays(series)
    x, y = f._windows(series, start=430)
    assert f.evaluate_windows(x, y)["mse"] < 0.3 * np.mean((last_value(x, 12, [0]) - y) ** 2)


def test_cross_validate_reports_each_fold():
    f = Forecaster(ForecastConfig(model="dense", input_width=12, horizon=3, hidden_size=8),
                   TrainConfig(max_epochs=3, lr=1e-2, seed=0))  # fmt: skip
    report = f.cross_validate(seasonal(), WindowSplit(n_splits=3, test_size=30))
    assert [fold["fold"] for fold in report["folds"]] == [0, 1, 2]
    assert all(fold["windows"] == 28 for fold in report["folds"])
    assert report["summary"]["mse"]["mean"] > 0


def test_cli_fit_predict_evaluate_cv(tmp_path):
    import pandas as pd

    dates = pd.date_range("2020-01-01", periods=300, freq="h")
    csv = tmp_path / "data.csv"
    pd.DataFrame({"date": dates, "load": seasonal(300, 24)[:, 0]}).to_csv(csv, index=False)
    runner = CliRunner()
    run = tmp_path / "run"
    common = ["--time-col", "date", "--target", "load", "--input-width", "24", "--horizon", "6"]
    result = runner.invoke(app, ["forecast", "fit", str(csv), *common, "--model", "gru", "--hidden", "8",
                                 "--epochs", "2", "--out", str(run), "--json", "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["epochs"] == 2
    out = tmp_path / "forecast.csv"
    result = runner.invoke(app, ["forecast", "predict", str(csv), "--model", str(run), "--output", str(out),
                                 "--plot", str(tmp_path / "f.png")])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    # the input's own column names and time stamps (issue 23), not series,time with "series" in every row
    assert lines[0] == "date,load" and lines[1].startswith("2020-01-13 12:00:00,") and len(lines) == 7
    result = runner.invoke(app, ["forecast", "evaluate", str(csv), "--model", str(run), "--start",
                                 "2020-01-12 00:00", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["windows"] == 300 - 264 - 6 + 1
    # the data's units beside the standardised scale: the ratio is the training part's variance
    model = Forecaster.load(run)
    variance = model.scaler.std[0][0] ** 2
    assert metrics["data_mse"] == pytest.approx(metrics["mse"] * variance, rel=1e-4)
    assert metrics["data_rmse"] == pytest.approx(metrics["data_mse"] ** 0.5, rel=1e-6)
    result = runner.invoke(app, ["forecast", "cv", str(csv), *common, "--model", "dense", "--splits", "3",
                                 "--epochs", "2", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["folds"]) == 3


def test_cli_segment_wise_model_with_scaled_mae(tmp_path):
    import pandas as pd

    csv = tmp_path / "data.csv"
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=200, freq="h"), "load": seasonal(200, 24)[:, 0]}).to_csv(
        csv, index=False
    )
    run = tmp_path / "run"
    args = ["forecast", "fit", str(csv), "--time-col", "date", "--target", "load", "--input-width", "48",
            "--horizon", "6", "--model", "gru", "--hidden", "8", "--patch", "24", "--loss", "scaled_mae",
            "--epochs", "1", "--members", "2", "--out", str(run), "--json", "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)  # dev MSE whatever the loss, and the monitored scaled MAE beside it
    assert metrics["dev_mse"] > 0 and metrics["dev_scaled_mae"] > 0 and metrics["dev_mse"] != metrics["dev_scaled_mae"]
    assert [m["seed"] for m in metrics["members"]] == [0, 1] and metrics["epochs"] == 2
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["patch"] == 24
    bad = CliRunner().invoke(app, [*args[:-6], "--patch", "10", "--out", str(tmp_path / "bad"), "--no-progress"])
    assert bad.exit_code != 0 and "patch (--patch) must divide input_width=48" in str(bad.exception)
    assert not (tmp_path / "bad").exists()


def test_cli_calendar_features_travel_with_the_model(tmp_path):
    import pandas as pd

    from rnnlab.forecast.forecaster import Forecaster

    dates = pd.date_range("2020-01-01", periods=200, freq="h")
    csv = tmp_path / "data.csv"
    pd.DataFrame({"date": dates, "load": seasonal(200, 24)[:, 0]}).to_csv(csv, index=False)
    runner = CliRunner()
    common = ["--time-col", "date", "--target", "load", "--input-width", "24", "--horizon", "6"]
    result = runner.invoke(app, ["forecast", "fit", str(csv), *common, "--model", "dense", "--hidden", "4",
                                 "--epochs", "1", "--calendar", "hour,dayofweek", "--out", str(tmp_path / "m"),
                                 "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    model = Forecaster.load(tmp_path / "m")
    assert model.config.n_inputs == 5 and model.data_settings["calendar"] == ["hour", "dayofweek"]
    out = tmp_path / "f.csv"
    result = runner.invoke(app, ["forecast", "predict", str(csv), "--model", str(tmp_path / "m"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == "date,load"  # calendar columns are inputs, not forecasts
    bad = runner.invoke(app, ["forecast", "fit", str(csv), *common, "--calendar", "minute", "--out",
                              str(tmp_path / "x")])  # fmt: skip
    assert bad.exit_code != 0 and "hour, dayofweek, month" in str(bad.exception)


def test_compare_on_bundled_airpassengers(tmp_path):
    result = CliRunner().invoke(app, ["forecast", "compare", "--models", "last_value,seasonal_naive,linear,dense",
                                      "--splits", "2", "--epochs", "5", "--out", str(tmp_path), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    by = {r["model"]: r for r in summary}
    assert set(by) == {"last_value", "seasonal_naive", "linear", "dense"}
    assert by["seasonal_naive"]["rmse_mean"] < by["last_value"]["rmse_mean"]  # a seasonal series
    assert {p.name for p in tmp_path.iterdir()} == {"compare.csv", "compare.md", "compare.png"}


def test_ensemble_members_are_single_networks_of_consecutive_seeds(tmp_path):
    series = [seasonal(seed=0), seasonal(seed=1)]
    config = ForecastConfig(model="gru", input_width=24, horizon=6, hidden_size=8, revin=True)
    train = TrainConfig(max_epochs=3, lr=1e-2, seed=4, patience=None)
    ensemble = Forecaster(dataclasses.replace(config, members=3), train, loss="scaled_mae")
    ensemble.fit_arrays(series, val_steps=40)
    singles = [Forecaster(config, dataclasses.replace(train, seed=4 + k), loss="scaled_mae") for k in range(3)]
    for single, member in zip(singles, ensemble.net.members, strict=True):
        single.fit_arrays(series, val_steps=40)
        for a, b in zip(member.state_dict().values(), single.net.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b)
    x, _ = ensemble._windows(series, start=300)
    mean = np.mean([s.predict_windows(x) for s in singles], axis=0)
    np.testing.assert_allclose(ensemble.predict_windows(x), mean, rtol=1e-5, atol=1e-6)
    info = ensemble.info
    assert [m["seed"] for m in info["members"]] == [4, 5, 6] and info["epochs"] == 9 and info["best_epoch"] is None
    # the ensemble's dev scores are computed as training logs them: a single model's agree with its own log
    xv, yv = singles[0]._windows([s[len(s) - 40 - 24 :] for s in series])
    scores = singles[0]._scores(xv, yv)
    assert scores["scaled_mae"] == pytest.approx(singles[0].info["best_dev_scaled_mae"], rel=1e-4)
    assert scores["mse"] == pytest.approx(singles[0].info["best_dev_mse"], rel=1e-4)
    assert info["best_dev_mse"] < np.mean([m["best_dev_mse"] for m in info["members"]])
    ensemble.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    assert again.config.members == 3
    np.testing.assert_allclose(again.predict_windows(x), ensemble.predict_windows(x), rtol=1e-6)
    with pytest.raises(ConfigError, match="members must be a positive integer"):
        ForecastConfig(members=0)
    assert isinstance(ensemble.net, Ensemble) and ensemble.net.combine == "mean"  # a wrapper, no branch inside
    with pytest.raises(ConfigError, match="from_config builds it"):
        ForecastNet(dataclasses.replace(config, members=2))
    assert not any(k.startswith("_") and torch.is_tensor(v) for k, v in vars(ensemble.net.members[0]).items())


def test_the_dataframe_api_takes_neuralforecast_columns_and_keeps_them(tmp_path):
    """Forecaster.fit(df) / predict(df) / evaluate(df) on NeuralForecast's long format (unique_id, ds, y): no
    options, the forecast comes back under the same names with the hours after each series' last row."""
    import pandas as pd

    parts = []
    for k, uid in enumerate(["H1", "H2"]):
        ds = pd.date_range(f"2020-01-0{k + 1}", periods=120, freq="h")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": 10 * (k + 1) + seasonal(120, 24, seed=k)[:, 0]}))
    df = pd.concat(parts, ignore_index=True)
    f = Forecaster(ForecastConfig(model="gru", input_width=24, horizon=4, hidden_size=8),
                   TrainConfig(max_epochs=2, lr=1e-2, seed=0))  # fmt: skip
    f.fit(df)
    out = f.predict(df)
    assert list(out.columns) == ["unique_id", "ds", "y"] and len(out) == 8
    assert out.groupby("unique_id")["ds"].min().to_dict() == {
        "H1": pd.Timestamp("2020-01-06 00:00"), "H2": pd.Timestamp("2020-01-07 00:00")}  # fmt: skip
    assert np.allclose(
        out["y"].to_numpy().reshape(2, 4), f.predict_arrays([p[["y"]].to_numpy() for p in parts])[..., 0]
    )
    scores = f.evaluate(df, start=100)
    with pytest.raises(DataError, match="no window has its first label at or after step 120"):  # not torch.cat's
        f.evaluate(df, start="2021-01-01")
    assert {"mse", "mae", "rmse", "data_mse", "data_mae", "data_rmse", "windows"} <= set(scores)
    f.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.predict(df), out)
    with pytest.raises(ValueError, match="name the column"):
        Forecaster(ForecastConfig(input_width=24, horizon=4)).fit(df.rename(columns={"y": "load"}))


def test_forecast_predict_json_is_the_service_answer(tmp_path):
    """One schema per task through every door: `forecast predict --output f.json` writes what the service answers."""
    import pandas as pd

    pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi (absent on some GPU images)")
    from fastapi.testclient import TestClient

    from rnnlab.serving import create_app

    csv = tmp_path / "data.csv"
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=120, freq="h"), "load": seasonal(120, 24)[:, 0]}).to_csv(
        csv, index=False
    )
    runner = CliRunner()
    args = ["forecast", "fit", str(csv), "--time-col", "date", "--target", "load", "--input-width", "24",
            "--horizon", "4", "--hidden-size", "4", "--max-epochs", "1", "--out", str(tmp_path / "m")]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    out = tmp_path / "f.json"
    result = runner.invoke(app, ["forecast", "predict", str(csv), "--model", str(tmp_path / "m"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    with TestClient(create_app({"m": str(tmp_path / "m")})) as client:
        served = client.post("/v1/models/m/predict", json={"csv": csv.read_text()}).json()["results"][0]
    assert json.loads(out.read_text()) == served
    assert served["series"][0]["forecast"]["time"][0] == "2020-01-06 00:00:00" and served["targets"] == ["load"]
