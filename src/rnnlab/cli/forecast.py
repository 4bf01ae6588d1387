"""``rnnlab forecast fit | predict | evaluate | cv``: forecasting from a CSV in one command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from rnnlab.cli.common import echo_json, markdown_table, new_file, output_dir, parse_list, same_file, write_csv
from rnnlab.cli.options import OUT, OVERWRITE, PROGRESS, RESUME, ConfigOptions, Section
from rnnlab.errors import ConfigError, DataError, ModelFileError
from rnnlab.forecast.config import DEFAULT_TRAIN, MODELS, ForecastConfig
from rnnlab.training.config import TrainConfig

if TYPE_CHECKING:
    from rnnlab.data.series import SeriesData
# NumPy, pandas, PyTorch and Lightning are imported by the commands that use them: `rnnlab --help` stays fast

T = TypeVar("T")

app = typer.Typer(help="Forecast time series from CSV files.", no_args_is_help=True)

EXAMPLES = """
Examples:

  rnnlab forecast fit ETTh1.csv --time-col date --target OT --input-width 96 --horizon 24 --model lstm --out runs/ett

  Many hourly series in long format (M4-style), read as daily segments:

  rnnlab forecast fit hourly.csv --series-col unique_id --time-col ds --target y --input-width 336 --horizon 48 \\
      --model gru --hidden-size 256 --patch 24 --loss scaled_mae --batch-size 256 --out runs/hourly

  rnnlab forecast predict --model runs/ett ETTh1.csv --output forecast.csv --plot forecast.png

  rnnlab forecast evaluate --model runs/ett ETTh1.csv --start 2018-02-20 --json
"""


def _read(path: str, settings: dict, *, future_rows: bool = False) -> SeriesData:
    from rnnlab.data.series import read_like

    return read_like(path, settings, future_rows=future_rows)


def _check_long_enough(data: SeriesData, width: int, what: str = "the model reads the last {} (input_width)") -> None:
    """A series shorter than the model needs is refused (as the service does), naming the rows needed."""
    for s in data.series:
        if len(s) < width:
            which = "the data" if len(data.series) == 1 else f"series {s.id!r}"
            message, hint = f"{which} has {len(s)} row(s); {what.format(width)}", f"give at least {width} rows"
            raise DataError(message, path=data.source, hint=hint)


def _named(model: str, data: str, run: Callable[[], T]) -> T:
    """``run()``, its errors naming the model directory (a damaged model) or the data file (the data)."""
    try:
        return run()
    except ModelFileError as exc:
        raise ModelFileError(f"{model}: {exc}") from None
    except DataError as exc:
        raise DataError(exc.message, path=exc.path or data, line=exc.line, column=exc.column, hint=exc.hint) from None
    except ValueError as exc:
        raise DataError(str(exc), path=data) from None


def _emit(metrics: dict, as_json: bool, title: str) -> None:
    from rnnlab.cli.common import emit

    emit(metrics, as_json, title)


FIT_OPTIONS = ConfigOptions(
    model=Section(
        ForecastConfig(),
        exclude=frozenset({"n_inputs", "targets"}),  # from the data's columns
        aliases={"hidden_size": ("--hidden",), "num_layers": ("--layers",)},
    ),
    train=Section(
        DEFAULT_TRAIN,
        aliases={"max_epochs": ("--epochs",)},
        flags={"strategy": "--train-strategy"},  # --strategy is the forecasting strategy
        zero_means_none=frozenset({"gradient_clip"}),
    ),
)


TIMEZONE = typer.Option(
    None,
    help="The calendar features on this zone's clock (an IANA name: Europe/Paris), daylight saving time "
    "included, for times written with UTC offsets (default: UTC's clock).",
)


@app.command(epilog=EXAMPLES)
@FIT_OPTIONS
def fit(
    data: str = typer.Argument(
        ..., help="CSV file: a time column and numeric columns (long format with --series-col)."
    ),
    time_col: str | None = typer.Option(None, help="Timestamp column (rows are ordered by it)."),
    target: str = typer.Option(..., help="Column(s) to forecast, comma-separated."),
    features: str = typer.Option("", help="Extra input columns (past covariates), comma-separated."),
    series_col: str | None = typer.Option(None, help="Series id column for many series in long format."),
    fill: str | None = typer.Option(None, help="Fill gaps and missing values: ffill, interpolate or zero."),
    calendar: str = typer.Option(
        "",
        help="Calendar features to add as inputs, comma-separated: hour, dayofweek, "
        "month (sin/cos pairs; known in advance for every forecast step).",
    ),
    timezone: str | None = TIMEZONE,
    loss: str | None = typer.Option(
        None, help="mse (default), mae, or scaled_mae (each window's MAE over its own std; needs --revin)."
    ),
    future_features: str = typer.Option(
        "",
        help="Input columns known in advance (a planned promotion, a weather forecast, a holiday flag), "
        "comma-separated: read over the forecast steps; predict then takes their values for those steps in rows "
        "after the history, with the target(s) left empty.",
    ),
    val_steps: int | None = typer.Option(None, help="Last steps of each series held out as dev (default 10 %)."),
    conformal: bool = typer.Option(
        False, help="Calibrate the --quantiles intervals on the dev part (split conformal, per horizon step)."
    ),
    out: str = OUT,
    overwrite: bool = OVERWRITE,
    resume: bool = RESUME,
    progress: bool = PROGRESS,
    as_json: bool = typer.Option(False, "--json", help="Print the dev metrics as JSON."),
    *,
    model: ForecastConfig,  # built by FIT_OPTIONS from its options
    train: TrainConfig,
) -> None:
    """Fit a forecaster on DATA and save it to --out (the model and training options are ForecastConfig's and
    TrainConfig's fields, defaults included)."""
    options = {**dict(locals()), **FIT_OPTIONS.flags(model=model, train=train)}  # recorded for --resume
    from rnnlab.forecast.forecaster import Forecaster

    settings = _settings(time_col, target, features, series_col, fill, calendar, future_features, model.horizon,
                         timezone)  # fmt: skip
    series = _read(data, settings)
    arrays = [s.values for s in series.series]
    config = model.replace(n_inputs=len(series.columns), targets=tuple(range(len(series.targets))))
    forecaster = Forecaster(config, train, loss=_loss(loss, config), conformal=conformal)
    from rnnlab.io import check_target

    check_target(out, overwrite=overwrite)  # before training; io.save checks again
    from rnnlab.cli.resume import fit_checkpoints

    with fit_checkpoints(out, resume=resume, command="forecast fit", options=options) as run:
        forecaster.fit_arrays(arrays, val_steps=val_steps, progress=progress and not as_json, out_dir=run,
                              resume=resume, ids=[s.id for s in series.series])  # fmt: skip
        forecaster.save(out, overwrite=overwrite, extra={**settings, "freq": series.freq, "columns": series.columns})
    _emit(_fit_metrics(forecaster.info, len(arrays)), as_json, f"saved {out}")


def _loss(loss: str | None, config: ForecastConfig) -> str:
    """--loss as given, refused where it would not be used: quantiles train on the pinball loss (the median's is
    the MAE; scaled_mae divides it by each window's scale), a distribution on its negative log-likelihood."""
    if loss is None:
        return "mse"
    if config.distribution != "none":
        raise ValueError(f"--distribution {config.distribution} trains on its negative log-likelihood: --loss {loss} "
                         "would not be used; leave --loss out")  # fmt: skip
    if config.quantiles and loss == "mse":
        raise ValueError("--quantiles train on the pinball loss (the median's is the MAE), not the MSE: leave --loss "
                         "out, or give --loss scaled_mae to weigh every window alike")  # fmt: skip
    return loss


def _fit_metrics(info: dict, series: int) -> dict:
    """What fit reports: the epoch kept (or the ensemble's mean forecast), its dev MSE whatever the loss."""
    metrics = {"dev_mse": info["best_dev_mse"], "best_epoch": info["best_epoch"], "epochs": info["epochs"],
               "seconds": round(info["seconds"], 2), "series": series}  # fmt: skip
    if "best_dev_scaled_mae" in info:
        metrics["dev_scaled_mae"] = info["best_dev_scaled_mae"]
    if "members" in info:
        metrics["members"] = info["members"]
    return metrics


def _settings(time_col: str | None, target: str, features: str, series_col: str | None, fill: str | None,
              calendar: str, future_features: str, horizon: int, timezone: str | None = None) -> dict:  # fmt: skip
    """How fit reads its data, from the command's options (saved with the model for predict)."""
    settings = {"time_col": time_col, "targets": parse_list(target, option="--target", lower=False),
                "features": parse_list(features, option="--features", lower=False) if features else [],
                "series_col": series_col, "fill": fill,
                "calendar": parse_list(calendar, option="--calendar") if calendar else []}  # fmt: skip
    if future_features:
        from rnnlab.forecast.frames import check_future_features

        ahead = parse_list(future_features, option="--future-features", lower=False)
        check_future_features(ahead, settings["targets"], settings["features"])
        settings.update(future_features=ahead, future_horizon=horizon)
    if timezone is not None:
        if not calendar:  # saved, and doing nothing
            raise ValueError("--timezone sets the clock of the --calendar features: give --calendar too")
        settings["timezone"] = timezone
    return settings


@app.command(epilog=EXAMPLES)
def predict(
    data: str = typer.Argument(..., help="CSV with the history (same columns as for fit)."),
    model: str = typer.Option(..., "--model", help="Directory written by `forecast fit`."),
    out: str = typer.Option(
        ..., "--output", "--out", help="Forecasts to write: .csv (one row per step), or .json (the service's answer)."
    ),
    plot: str | None = typer.Option(None, help="PNG of history + forecast."),
    overwrite: bool = typer.Option(False, help="Replace --output / --plot if they exist."),
) -> None:
    """Forecast the `horizon` steps after the end of each series."""
    from rnnlab.forecast.forecaster import Forecaster
    from rnnlab.forecast.frames import forecast_frame, forecast_record

    _check_targets(out, plot, data, model)
    forecaster = Forecaster.load(model)
    settings = forecaster.data_settings
    new_file(out, "--output", overwrite=overwrite)
    new_file(plot, "--plot", overwrite=overwrite)
    series = _read(data, settings, future_rows=True)
    _check_long_enough(series, forecaster.config.input_width)
    ids = [s.id for s in series.series]
    values = [s.values for s in series.series]
    # (S, H, K), and (S, H, K, Q) for a model fitted with --quantiles or --distribution
    pred, bands = _named(model, data, lambda: forecaster.predict_with_quantiles(values, ids))
    levels = forecaster.config.quantiles
    if Path(out).suffix.lower() == ".json":  # the service's answer, as JSON
        record = forecast_record(series, pred, settings, quantiles=bands, levels=levels)
        Path(out).write_text(json.dumps(record) + "\n", encoding="utf-8")
    else:  # the input's column names and time stamps
        forecast_frame(series, pred, settings, quantiles=bands, levels=levels).to_csv(out, index=False)
    if plot:
        from rnnlab.forecast.plots import plot_forecast

        plot_forecast(series, pred, forecaster.config.horizon, plot, freq=settings.get("freq"), quantiles=bands,
                      levels=levels)  # fmt: skip
    typer.echo(f"wrote {out}" + (f" and {plot}" if plot else ""))


def _check_targets(out: str, plot: str | None, data: str, model: str) -> None:
    """Refuse, before any work, --output / --plot naming one file, the input data, or a file of the model's
    directory (with --overwrite, `--output m/config.json` destroyed the model and `--output data.csv` the data)."""
    from rnnlab.hub import model_home

    if plot and same_file(out, plot):
        raise ConfigError(f"--output {out} and --plot {plot} are the same file; the plot would replace the "
                          "forecasts: give them different paths")  # fmt: skip
    for flag, path in (("--output", out), ("--plot", plot)):
        if path and same_file(path, data):
            raise ConfigError(f"{flag} {path} is the input data {data}; write the forecasts to another file")
        if path and model_home(path, model) is not None:
            raise ConfigError(f"{flag} {path} is inside the model's directory {model}; write it elsewhere")


@app.command(epilog=EXAMPLES)
def evaluate(
    data: str = typer.Argument(..., help="CSV to evaluate on."),
    model: str = typer.Option(..., "--model", help="Directory written by `forecast fit`."),
    start: str | None = typer.Option(
        None, help="First label timestamp of the windows scored (on data written with UTC offsets: UTC, or give one)."
    ),
    start_row: int | None = typer.Option(None, min=0, help="First label row (0-based data row) of the windows scored."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Score every rolling window whose first label is at or after --start: mse/mae/rmse on the standardised
    scale (the ETT papers' convention), data_mse/data_mae/data_rmse in the data's units."""

    from rnnlab.forecast.forecaster import Forecaster, start_rows

    forecaster = Forecaster.load(model)
    series = _read(data, forecaster.data_settings)
    if start is not None and start_row is not None:
        raise ValueError("give --start or --start-row, not both")
    first = start_rows(series, start) if start is not None else start_row or 0
    _check_long_enough(series, forecaster.spec.total_size, "one window needs {} (input_width + horizon)")
    ids = [s.id for s in series.series]
    metrics = _named(model, data, lambda: forecaster.evaluate_arrays([s.values for s in series.series], start=first,
                                                                     ids=ids))  # fmt: skip
    _emit(
        metrics, as_json, f"rolling windows from {start}" if start is not None else f"rolling windows from step {first}"
    )


@app.command(epilog=EXAMPLES)
def cv(
    data: str = typer.Argument(..., help="CSV with one series."),
    time_col: str | None = typer.Option(None, help="Timestamp column."),
    target: str = typer.Option(..., help="Column(s) to forecast."),
    fill: str | None = typer.Option(None, help="Fill policy: ffill, interpolate or zero."),
    calendar: str = typer.Option("", help="Calendar features as inputs: hour, dayofweek, month."),
    timezone: str | None = TIMEZONE,
    input_width: int = typer.Option(24, help="Steps read by the model."),
    horizon: int = typer.Option(12, help="Steps forecast."),
    model: str = typer.Option("lstm", help=f"One of {', '.join(MODELS)}."),
    hidden: int = typer.Option(32, help="Hidden units."),
    revin: bool = typer.Option(True, help="Per-window normalisation."),
    splits: int = typer.Option(5, help="Expanding-window folds."),
    test_size: int | None = typer.Option(None, help="Steps per test fold (default: length // (splits + 1))."),
    gap: int = typer.Option(0, help="Steps between the last training label and the fold."),
    epochs: int = typer.Option(30, help="Epochs at most per fold."),
    lr: float = typer.Option(1e-2, help="Adam learning rate."),
    seed: int = typer.Option(0, help="Seed."),
    as_json: bool = typer.Option(False, "--json", help="Print per-fold and mean ± std metrics as JSON."),
) -> None:
    """Time-series cross-validation: refit on each expanding fold, score its test windows."""
    from rnnlab.data.splits import WindowSplit
    from rnnlab.forecast.forecaster import Forecaster
    from rnnlab.training import TrainConfig

    settings = _settings(
        time_col,
        target,
        features="",
        series_col=None,
        fill=fill,
        calendar=calendar,
        future_features="",
        horizon=horizon,
        timezone=timezone,
    )  # one series, no covariates
    series = _read(data, settings)
    if len(series.series) != 1:
        raise ValueError(f"cv takes one series; {data} holds {len(series.series)}")
    config = ForecastConfig(model=model, input_width=input_width, horizon=horizon, n_inputs=len(series.columns),
                            targets=tuple(range(len(series.targets))), hidden_size=hidden, revin=revin)  # fmt: skip
    forecaster = Forecaster(config, TrainConfig(max_epochs=epochs, lr=lr, batch_size=32, patience=5, seed=seed))
    if splits < 1:
        raise ValueError(f"--splits takes the number of folds, at least 1, received {splits}")
    report = forecaster.cross_validate(series.series[0].values, WindowSplit(splits, test_size, gap))
    if as_json:
        echo_json(report, sort_keys=True)
        return
    for f in report["folds"]:
        typer.echo(f"fold {f['fold']}: mse {f['mse']:.4g}  mae {f['mae']:.4g}  ({f['windows']} windows)")
    s = report["summary"]
    typer.echo(f"mean: mse {s['mse']['mean']:.4g} ± {s['mse']['std']:.3g}, mae {s['mae']['mean']:.4g} ± "
               f"{s['mae']['std']:.3g}")  # fmt: skip


@app.command(epilog=EXAMPLES)
def compare(
    data: str | None = typer.Argument(None, help="CSV with one series (default: the bundled AirPassengers)."),
    time_col: str | None = typer.Option(None, help="Timestamp column (AirPassengers: date)."),
    target: str | None = typer.Option(None, help="Column to forecast (AirPassengers: value)."),
    models: str = typer.Option("last_value,seasonal_naive,linear,dense,rnn,lstm,gru", help="Models to compare."),
    input_width: int = typer.Option(24, help="Steps read by each model."),
    horizon: int = typer.Option(12, help="Steps forecast."),
    period: int = typer.Option(12, help="Season length for seasonal naive."),
    splits: int = typer.Option(3, help="Expanding-window folds."),
    test_size: int | None = typer.Option(12, help="Steps per test fold."),
    log: bool = typer.Option(True, help="Fit on log values (multiplicative seasonality)."),
    hidden: int = typer.Option(32, help="Hidden units of the networks."),
    epochs: int = typer.Option(100, help="Epochs at most per fold."),
    seed: int = typer.Option(0, help="Seed."),
    out: str = typer.Option(..., "--out", help="Folder for compare.csv, compare.md, compare.png."),
    overwrite: bool = typer.Option(False, help="Replace files of an earlier run in --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Baselines vs dense vs RNN vs LSTM vs GRU by time-series cross-validation; table + bar chart."""
    from rnnlab.data.splits import WindowSplit
    from rnnlab.forecast.compare import airpassengers_path, summarise
    from rnnlab.forecast.compare import compare as run_compare
    from rnnlab.forecast.plots import plot_comparison

    if data is None:
        data, time_col, target = str(airpassengers_path()), time_col or "date", target or "value"
    if target is None:
        raise ValueError("--target is required with your own DATA")
    names = parse_list(models, option="--models")
    folder = output_dir(out, ["compare.csv", "compare.md", "compare.png"], overwrite=overwrite)
    series = _read(data, {"time_col": time_col, "targets": [target]})
    rows = run_compare(series.series[0].values[:, :1], models=names, input_width=input_width, horizon=horizon,
                       splitter=WindowSplit(splits, test_size), period=period, log=log, hidden=hidden,
                       epochs=epochs, seed=seed)  # fmt: skip
    summary = summarise(rows)
    write_csv(folder / "compare.csv", rows)
    title = f"{Path(data).name}: {splits} folds, horizon {horizon}, input {input_width}"
    (folder / "compare.md").write_text(f"# {title}\n\n" + markdown_table(summary) + "\n", encoding="utf-8")
    plot_comparison(summary, folder / "compare.png", title=title)
    if as_json:
        echo_json(summary)
        return
    for r in summary:
        typer.echo(f"{r['model']:15} RMSE {r['rmse_mean']:9.3f} ± {r['rmse_std']:7.3f}   MAE {r['mae_mean']:9.3f}"
                   f"   sMAPE {r['smape_mean']:6.2f}")  # fmt: skip
    typer.echo(f"wrote {folder / 'compare.md'}, {folder / 'compare.csv'}, {folder / 'compare.png'}")
