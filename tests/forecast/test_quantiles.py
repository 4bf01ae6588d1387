"""Quantile forecasts (issue 25, point 2): pinball-trained levels that never cross, their interval covering about
what it states on windows never trained on, through the Python API and `forecast fit/predict/evaluate`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from rnnlab.cli import app
from rnnlab.errors import ConfigError, DataError
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig, ForecastNet
from rnnlab.training import TrainConfig


def noisy_sine(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (np.sin(2 * np.pi * t / 24) + rng.normal(scale=0.3, size=n)).astype(np.float32)[:, None]


def test_levels_are_sorted_with_the_median_added_and_bad_ones_refused():
    assert ForecastConfig(quantiles=(0.9, 0.1)).quantiles == (0.1, 0.5, 0.9)
    for bad in ((0.0, 0.5), (0.5, 1.2), (0.2, 0.2)):
        with pytest.raises(ConfigError, match="strictly between 0 and 1"):
            ForecastConfig(quantiles=bad)
    with pytest.raises(ConfigError, match="single_shot"):
        ForecastConfig(quantiles=(0.1, 0.9), strategy="per_step")
    assert ForecastConfig(quantiles=(0.1, 0.9), members=2).members == 2  # an ensemble averages its levels


@pytest.mark.parametrize("model", ["dense", "gru"])
def test_quantiles_never_cross_and_the_median_is_the_point_forecast(model):
    torch.manual_seed(0)
    net = ForecastNet(ForecastConfig(model=model, input_width=12, horizon=4, n_inputs=2, targets=(0, 1),
                                     quantiles=(0.05, 0.25, 0.75, 0.95), hidden_size=8, highway=3))  # fmt: skip
    out = net.outputs(torch.randn(16, 12, 2) * 5)
    assert out.quantiles.shape == (16, 4, 2, 5)
    assert bool((out.quantiles.diff(dim=-1) > 0).all())
    torch.testing.assert_close(out.forecast, out.quantiles[..., 2])
    torch.testing.assert_close(net(torch.zeros(1, 12, 2)), net.outputs(torch.zeros(1, 12, 2)).quantiles[..., 2])


def test_a_90_percent_interval_covers_about_90_percent_of_new_windows(tmp_path):
    series = noisy_sine()
    train, test = series[:900], series[900 - 24 :]
    f = Forecaster(ForecastConfig(model="dense", input_width=24, horizon=3, hidden_size=32, quantiles=(0.05, 0.95)),
                   TrainConfig(max_epochs=6, lr=1e-2, seed=0, patience=None))  # fmt: skip
    f.fit_arrays([train])
    scores = f.evaluate_arrays([test], start=24)
    assert 0.8 <= scores["coverage_90"] <= 0.97, scores  # noise N(0, 0.3): the true 90 % width is 0.99
    assert 0.8 < scores["width_90"] < 1.3
    assert scores["pinball_q0.5"] == pytest.approx(scores["data_mae"] / 2, rel=1e-4)  # the median's: half the MAE
    f.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    assert again.config.quantiles == (0.05, 0.5, 0.95)
    np.testing.assert_allclose(again.predict_arrays([test], quantiles=True), f.predict_arrays([test], quantiles=True))
    point = f.predict_arrays([test])
    bands = f.predict_arrays([test], quantiles=True)
    assert bands.shape == (1, 3, 1, 3)
    np.testing.assert_allclose(bands[..., 1], point, rtol=1e-6)
    with pytest.raises(ValueError, match="points only"):
        Forecaster(ForecastConfig(model="dense", input_width=24, horizon=3)).predict_quantile_windows(
            np.zeros((1, 24, 1))
        )


def test_the_cli_writes_the_interval_columns_and_the_json_bands(tmp_path):
    data = tmp_path / "s.csv"
    stamps = pd.date_range("2024-01-01", periods=300, freq="h")
    pd.DataFrame({"date": stamps.strftime("%Y-%m-%d %H:%M:%S"), "y": noisy_sine(300)[:, 0]}).to_csv(data, index=False)
    runner = CliRunner()
    fit = runner.invoke(app, ["forecast", "fit", str(data), "--time-col", "date", "--target", "y", "--input-width",
                              "24", "--horizon", "3", "--model", "dense", "--hidden-size", "8", "--max-epochs", "2",
                              "--quantiles", "0.025,0.975", "--conformal", "--val-steps", "60", "--out",
                              str(tmp_path / "m"), "--no-progress"])  # fmt: skip
    assert fit.exit_code == 0, fit.output
    assert len(json.loads((tmp_path / "m" / "forecaster.json").read_text())["conformal_offsets"][0]) == 3
    out = runner.invoke(app, ["forecast", "predict", str(data), "--model", str(tmp_path / "m"), "--output",
                              str(tmp_path / "f.csv"), "--plot", str(tmp_path / "f.png")])  # fmt: skip
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(tmp_path / "f.csv")
    assert list(frame.columns) == ["date", "y", "y_q0.025", "y_q0.975"] and len(frame) == 3
    assert (frame["y_q0.025"] < frame["y"]).all() and (frame["y"] < frame["y_q0.975"]).all()
    assert (tmp_path / "f.png").stat().st_size > 1000
    runner.invoke(app, ["forecast", "predict", str(data), "--model", str(tmp_path / "m"), "--output",
                        str(tmp_path / "f.json")])  # fmt: skip
    record = json.loads((tmp_path / "f.json").read_text())
    assert record["quantiles"] == [0.025, 0.5, 0.975]
    assert record["series"][0]["forecast"]["y_q0.975"] == pytest.approx(frame["y_q0.975"].tolist())
    scores = runner.invoke(app, ["forecast", "evaluate", str(data), "--model", str(tmp_path / "m"), "--json"])
    assert {"coverage_95", "width_95", "pinball", "crps"} <= set(json.loads(scores.output))


def test_conformal_calibration_brings_an_undertrained_interval_to_its_stated_coverage(tmp_path):
    series = noisy_sine(1500)
    train, test = series[:1100], series[1100 - 24 :]
    scores = {}
    for conformal in (False, True):
        f = Forecaster(ForecastConfig(model="dense", input_width=24, horizon=3, hidden_size=32, quantiles=(0.05, 0.95)),
                       TrainConfig(max_epochs=1, lr=1e-3, seed=0, patience=None), conformal=conformal)  # fmt: skip
        f.fit_arrays([train], val_steps=300)  # ~300 dev windows calibrate the 90 % interval
        scores[conformal] = f.evaluate_arrays([test], start=24)["coverage_90"]
    assert scores[False] < 0.8 and 0.86 <= scores[True] <= 0.95, scores
    assert f.offsets.shape == (1, 3, 1) and f.info["conformal_dev_windows"] == 298
    f.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    np.testing.assert_allclose(again.offsets, f.offsets)
    np.testing.assert_allclose(again.predict_arrays([test], quantiles=True), f.predict_arrays([test], quantiles=True))
    settings = json.loads((tmp_path / "m" / "forecaster.json").read_text())
    settings["conformal_offsets"] = [[[float("nan")]] * 3]
    (tmp_path / "m" / "forecaster.json").write_text(json.dumps(settings))
    with pytest.raises(Exception, match="conformal_offsets must be finite numbers of shape"):
        Forecaster.load(tmp_path / "m")


def test_conformal_needs_quantiles_and_enough_dev_windows():
    with pytest.raises(ValueError, match="give --quantiles too"):
        Forecaster(ForecastConfig(model="dense", input_width=24, horizon=3), conformal=True)
    f = Forecaster(ForecastConfig(model="dense", input_width=24, horizon=3, quantiles=(0.025, 0.975)),
                   TrainConfig(max_epochs=1, seed=0), conformal=True)  # fmt: skip
    with pytest.raises(DataError, match="hold out more steps with --val-steps"):
        f.fit_arrays([noisy_sine(300)], val_steps=20)  # 18 dev windows cannot calibrate a 95 % interval


def test_a_normal_forecast_reads_its_quantiles_from_its_mean_and_deviation():
    torch.manual_seed(0)
    net = ForecastNet(ForecastConfig(model="gru", input_width=12, horizon=4, hidden_size=8, distribution="normal",
                                     highway=3))  # fmt: skip
    assert net.config.quantiles == (0.025, 0.5, 0.975)  # the default 95 % interval
    out = net.outputs(torch.randn(16, 12, 1) * 3 + 5)
    assert out.sigma.shape == (16, 4, 1) and bool((out.sigma > 0).all())
    torch.testing.assert_close(out.quantiles[..., 2], out.forecast + 1.959964 * out.sigma)
    torch.testing.assert_close(out.quantiles[..., 0], out.forecast - 1.959964 * out.sigma)
    torch.testing.assert_close(out.quantiles[..., 1], out.forecast)
    from rnnlab.forecast.forecaster import objective

    x, y = torch.randn(16, 12, 1), torch.randn(16, 4, 1)
    out = net.outputs(x)
    expected = -torch.distributions.Normal(out.forecast, out.sigma).log_prob(y).mean()
    torch.testing.assert_close(
        objective(quantiles=net.config.quantiles, distribution="normal").loss(net, (x, y)), expected
    )


def test_a_normal_forecaster_covers_its_interval_and_survives_save_and_load(tmp_path):
    series = noisy_sine()
    train, test = series[:900], series[900 - 24 :]
    config = ForecastConfig(model="dense", input_width=24, horizon=3, hidden_size=32, distribution="normal",
                            quantiles=(0.05, 0.95))  # fmt: skip
    f = Forecaster(config, TrainConfig(max_epochs=6, lr=1e-2, seed=0, patience=None))
    f.fit_arrays([train])
    scores = f.evaluate_arrays([test], start=24)
    assert 0.8 <= scores["coverage_90"] <= 0.97 and 0.8 < scores["width_90"] < 1.3, scores
    f.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_arrays([test], quantiles=True), f.predict_arrays([test], quantiles=True))
    with pytest.raises(ConfigError, match="distribution must be one of"):
        ForecastConfig(distribution="poisson")


def test_a_student_t_forecast_has_heavier_tails_and_its_exact_likelihood():
    """Student-t head: quantiles from the location, scale and df (df > 3), checked against a t table and against
    torch's StudentT log-density for the loss."""
    from rnnlab.forecast.forecaster import objective
    from rnnlab.forecast.models import student_t_z

    # t table, 97.5 % quantile: df 3 → 3.182, 5 → 2.571, 10 → 2.228, 30 → 2.042
    table = {3.0: 3.182, 5.0: 2.571, 10.0: 2.228, 30.0: 2.042}
    z = torch.tensor([-1.959964, 0.0, 1.959964])
    for df, t in table.items():
        q = student_t_z(z, torch.tensor(df))
        assert abs(q[2].item() - t) < 0.005 and abs(q[0].item() + t) < 0.005 and q[1].item() == 0.0, (df, q)
    torch.manual_seed(0)
    net = ForecastNet(ForecastConfig(model="gru", input_width=12, horizon=4, hidden_size=8, distribution="student_t",
                                     quantiles=(0.05, 0.25, 0.75, 0.95), highway=3))  # fmt: skip
    out = net.outputs(torch.randn(16, 12, 1) * 3 + 5)
    assert out.df.shape == (16, 4, 1) and bool((out.df > 3).all()) and bool((out.sigma > 0).all())
    assert bool((out.quantiles.diff(dim=-1) > 0).all())  # never cross
    torch.testing.assert_close(out.quantiles[..., 2], out.forecast)  # the median is the location
    normal_width = 2 * 1.644854 * out.sigma
    assert bool((out.quantiles[..., 4] - out.quantiles[..., 0] > normal_width).all())  # heavier than a normal's
    x, y = torch.randn(16, 12, 1), torch.randn(16, 4, 1)
    out = net.outputs(x)
    expected = -torch.distributions.StudentT(out.df, out.forecast, out.sigma).log_prob(y).mean()
    got = objective(quantiles=net.config.quantiles, distribution="student_t").loss(net, (x, y))
    torch.testing.assert_close(got, expected)


def test_a_student_t_forecaster_covers_its_interval_through_the_cli(tmp_path):
    series = noisy_sine(1000)
    pd.DataFrame({"y": series[:, 0]}).to_csv(tmp_path / "s.csv", index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["forecast", "fit", str(tmp_path / "s.csv"), "--target", "y", "--model", "dense",
                                 "--input-width", "24", "--horizon", "3", "--hidden-size", "32", "--distribution",
                                 "student_t", "--quantiles", "0.05,0.95", "--max-epochs", "6", "--lr", "1e-2",
                                 "--no-progress", "--out", str(tmp_path / "m"), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["forecast", "evaluate", str(tmp_path / "s.csv"), "--model", str(tmp_path / "m"),
                                 "--start-row", "900", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output.strip().splitlines()[-1])
    flat = json.dumps(scores)
    assert "coverage_90" in flat, scores
    coverage = scores.get("coverage_90") or scores.get("y", {}).get("coverage_90")
    assert coverage is not None and 0.8 <= coverage <= 0.99, scores


@pytest.mark.parametrize("distribution", ["none", "normal"])
def test_an_ensemble_of_quantile_forecasters_averages_its_members_levels(tmp_path, distribution):
    from rnnlab.export import export_onnx
    from rnnlab.export.runtime import OnnxForecaster
    from rnnlab.forecast.models import forecast_outputs

    series = noisy_sine(600)
    config = ForecastConfig(model="dense", input_width=24, horizon=3, hidden_size=16, quantiles=(0.1, 0.9),
                            members=2, distribution=distribution)  # fmt: skip
    f = Forecaster(config, TrainConfig(max_epochs=2, lr=1e-2, seed=0, patience=None))
    result = f.fit_arrays([series], val_steps=60)
    if distribution == "none":
        assert result.best_score is not None and np.isfinite(result.best_score)  # the ensemble's dev pinball
    x = torch.randn(5, 24, 1)
    with torch.no_grad():
        out = forecast_outputs(f.net, x)
        members = [m.outputs(x) for m in f.net.members]
    torch.testing.assert_close(out.quantiles, (members[0].quantiles + members[1].quantiles) / 2)
    assert not torch.equal(members[0].quantiles, members[1].quantiles)  # two networks, two seeds
    assert bool((out.quantiles.diff(dim=-1) >= 0).all())
    torch.testing.assert_close(out.forecast, out.quantiles[..., 1])  # the point forecast: the mean median
    f.save(tmp_path / "m", extra={"time_col": None, "targets": ["y"], "features": [], "series_col": None,
                                  "fill": None, "freq": None})  # fmt: skip
    again = Forecaster.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict_arrays([series], quantiles=True), f.predict_arrays([series],
                               quantiles=True), rtol=1e-5, atol=1e-6)  # fmt: skip
    report = export_onnx(tmp_path / "m", tmp_path / "m.onnx")
    assert report["parity"] == "passed" and report["outputs"] == ["forecast", "quantiles"]
    onnx = OnnxForecaster(tmp_path / "m.onnx", tmp_path / "m")
    np.testing.assert_allclose(onnx.predict_arrays([series], quantiles=True), f.predict_arrays([series],
                               quantiles=True), rtol=1e-4, atol=1e-4)  # fmt: skip
