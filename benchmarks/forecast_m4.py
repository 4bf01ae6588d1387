"""M4 Hourly: one global recurrent model over the 414 series, scored on the last 48 points of each training series.

    python benchmarks/forecast_m4.py [--quick] [--cli]

It prints the `rnnlab forecast fit` command equivalent to its model row; with --cli it also runs that command
(and `forecast predict`) on the histories written as a long-format CSV, and scores it as another row: the path a
user types, checked against the benchmark's own.

The official test values are held out of this project: each training series' last 48
points are the validation part we report on (sMAPE, MASE with m = 24 scaled on the history,
OWA against Naive2 computed the same way), and the 48 points before them serve the model's
early stopping. Naive2 follows the M4 guide (seasonality test at lag 24, classical
multiplicative decomposition). Writes results/forecast_m4.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import environment, write
from rnnlab.data.series import read_m4_wide
from rnnlab.forecast.forecaster import LOSSES, Forecaster
from rnnlab.forecast.m4 import naive2, score, seasonal_naive_forecast
from rnnlab.forecast.models import ForecastConfig
from rnnlab.training import TrainConfig

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "m4_hourly" / "Hourly-train.csv"
HORIZON, PERIOD = 48, 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 series, 2 epochs")
    parser.add_argument("--model", default="gru")
    parser.add_argument("--input-width", type=int, default=336)
    parser.add_argument("--patch", type=int, default=24, help="segment length read per recurrent step (0: none)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--lr-decay", type=float, default=0.3)
    parser.add_argument("--stride", type=int, default=1, help="keep every k-th training window")
    parser.add_argument(
        "--tune", action="store_true", help="score on the 48 points before the validation part (for choosing settings)"
    )
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="another seed writes forecast_m4_seedN.json")
    parser.add_argument(
        "--val-steps",
        type=int,
        default=HORIZON,
        help="last steps of each history for early stopping (every window whose labels lie there)",
    )
    parser.add_argument("--loss", default="scaled_mae", choices=list(LOSSES))
    parser.add_argument("--progress", action="store_true", help="show the training progress bar")
    parser.add_argument("--cli", action="store_true", help="also run the equivalent `rnnlab forecast fit` command")
    parser.add_argument("--intervals", action="store_true",
                        help="also a 95 %% interval model (quantiles 0.025/0.975, conformal on the dev part) and "
                        "seasonal naive's empirical intervals: coverage and MSIS")  # fmt: skip
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"error: {DATA} not found; this benchmark reads ../shared/data/m4_hourly beside the checkout")
    series = read_m4_wide(DATA)
    if args.quick:
        series = series[:40]
    if args.tune:  # drop the reported part: settings are chosen on the 48 points before it
        series = [s[:-HORIZON] for s in series]
    histories = [s[:-HORIZON] for s in series]  # fed to the network as float32, as `rnnlab forecast fit` reads a CSV
    actuals = [s[-HORIZON:] for s in series]
    rows = {}
    n2 = [naive2(h, HORIZON, PERIOD) for h in histories]
    rows["Naive2"] = score(histories, actuals, n2, n2, PERIOD)
    sn = [seasonal_naive_forecast(h, HORIZON, PERIOD) for h in histories]
    rows["seasonal naive"] = score(histories, actuals, sn, n2, PERIOD)
    config = ForecastConfig(model=args.model, input_width=args.input_width, horizon=HORIZON, hidden_size=args.hidden,
                            revin=True, patch=args.patch)  # fmt: skip
    train = TrainConfig(
        max_epochs=2 if args.quick else args.epochs,
        lr=args.lr,
        lr_decay=args.lr_decay,
        batch_size=256,
        patience=args.patience,
        seed=args.seed,
    )
    forecaster = Forecaster(config, train, loss=args.loss)
    start = time.perf_counter()
    result = forecaster.fit_arrays(
        [h[:, None].astype(np.float32) for h in histories],
        val_steps=args.val_steps,
        stride=args.stride,
        progress=args.progress,
    )
    seconds = time.perf_counter() - start
    t0 = time.perf_counter()
    pred = forecaster.predict_arrays([h[:, None].astype(np.float32) for h in histories])[:, :, 0]
    predict_s = time.perf_counter() - t0
    name = f"global {args.model}" + (f", segments of {args.patch}" if args.patch else "") + " + RevIN (rnnlab)"
    rows[name] = score(histories, actuals, list(np.maximum(pred, 0.0)), n2, PERIOD)
    rows[name].update({"train_seconds": round(seconds, 1), "epochs": result.epochs, "best_epoch": result.best_epoch,
                       "predict_seconds_414_series": round(predict_s, 3)})  # fmt: skip
    if args.intervals:
        rows["seasonal naive, empirical 95 % intervals"] = {**rows["seasonal naive"],
                                                             **naive_intervals(histories, actuals, sn)}  # fmt: skip
        rows["95 % intervals: quantiles + conformal (rnnlab)"] = interval_model(config, train, args, histories,
                                                                               actuals, n2)  # fmt: skip
    command = cli_command(args, 2 if args.quick else args.epochs)
    print("the same model from the command line (histories as a long CSV: unique_id, y):\n  " + shlex.join(command))
    if args.cli:
        rows["the same, through `rnnlab forecast fit`"] = run_cli(command, histories, actuals, n2)
    print(f"{'method':50} {'sMAPE':>7} {'MASE':>7} {'OWA':>6} {'cover95':>8} {'MSIS':>7}")
    for k, r in rows.items():
        extra = f" {r['coverage_95']:8.3f} {r['msis']:7.3f}" if "msis" in r else ""
        print(f"{k:50} {r['smape']:7.3f} {r['mase']:7.3f} {r['owa']:6.3f}{extra}")
    print(f"training {seconds:.0f} s ({result.epochs} epochs, best {result.best_epoch}); target OWA <= 0.50")
    payload = {"environment": environment(), "series": len(series), "horizon": HORIZON, "period": PERIOD,
               "window_stride": args.stride, "val_steps": args.val_steps, "tune": args.tune,
               "config": config.to_dict(), "train": train.to_dict(), "command": shlex.join(command),
               "results": rows}  # fmt: skip
    suffix = (
        ("_quick" if args.quick else "") + ("_tune" if args.tune else "") + (f"_seed{args.seed}" if args.seed else "")
    )
    path = write("forecast_m4" + suffix, payload)
    print(f"wrote {path}")


def naive_intervals(histories: list, actuals: list, forecasts: list, alpha: float = 0.05) -> dict:
    """Seasonal naive's empirical intervals: at step h its forecast repeats the value L = 24·ceil(h/24) steps back,
    so its interval adds the 2.5 % and 97.5 % quantiles of the history's own L-step seasonal differences."""

    lows, highs = [], []
    for h, f in zip(histories, forecasts, strict=True):
        steps = np.arange(1, HORIZON + 1)
        lags = PERIOD * np.ceil(steps / PERIOD).astype(int)
        q = {lag: np.quantile(h[lag:] - h[:-lag], [alpha / 2, 1 - alpha / 2]) for lag in set(lags.tolist())}
        lows.append(f + np.array([q[lag][0] for lag in lags]))
        highs.append(f + np.array([q[lag][1] for lag in lags]))
    return _interval_scores(histories, actuals, lows, highs)


def _interval_scores(histories: list, actuals: list, lows: list, highs: list) -> dict:
    from rnnlab.metrics import coverage, msis

    cover = coverage(np.concatenate(actuals), np.concatenate(lows), np.concatenate(highs))
    scores = [msis(a, lo, hi, h, PERIOD) for h, a, lo, hi in zip(histories, actuals, lows, highs, strict=True)]
    return {"coverage_95": cover, "msis": float(np.mean(scores))}


def interval_model(config: ForecastConfig, train: TrainConfig, args: argparse.Namespace, histories: list,
                   actuals: list, n2: list) -> dict:  # fmt: skip
    """The benchmark's model with a 95 % interval: quantiles 0.025 / 0.975 (pinball loss, each window's scale),
    widened by split conformal calibration on the dev part (the 48 steps before the reported ones)."""
    import dataclasses

    forecaster = Forecaster(dataclasses.replace(config, quantiles=(0.025, 0.975)), train, loss=args.loss,
                            conformal=True)  # fmt: skip
    start = time.perf_counter()
    inputs = [h[:, None].astype(np.float32) for h in histories]
    result = forecaster.fit_arrays(inputs, val_steps=args.val_steps, stride=args.stride, progress=args.progress)
    seconds = time.perf_counter() - start
    bands = forecaster.predict_arrays([h[:, None].astype(np.float32) for h in histories], quantiles=True)[
        :, :, 0, :
    ]  # (S, H, 3)
    median = [np.maximum(b[:, 1], 0.0) for b in bands]
    row = score(histories, actuals, median, n2, PERIOD)
    row.update(_interval_scores(histories, actuals, [b[:, 0] for b in bands], [b[:, 2] for b in bands]))
    row.update({"train_seconds": round(seconds, 1), "epochs": result.epochs, "best_epoch": result.best_epoch})
    return row


def cli_command(args: argparse.Namespace, epochs: int) -> list[str]:
    """`rnnlab forecast fit` with the benchmark's settings, on runs/m4/hourly_histories.csv."""
    return ["rnnlab", "forecast", "fit", "runs/m4/hourly_histories.csv", "--series-col", "unique_id", "--target", "y",
            "--input-width", str(args.input_width), "--horizon", str(HORIZON), "--model", args.model,
            "--hidden-size", str(args.hidden), "--patch", str(args.patch), "--loss", args.loss, "--batch-size", "256",
            "--lr", str(args.lr), "--lr-decay", str(args.lr_decay), "--patience", str(args.patience),
            "--max-epochs", str(epochs), "--val-steps", str(args.val_steps), "--seed", str(args.seed),
            "--no-progress", "--json", "--overwrite", "--out", "runs/m4/model"]  # fmt: skip


def run_cli(command: list[str], histories: list, actuals: list, n2: list) -> dict:
    """Write the histories as the CSV the command reads, run it and `forecast predict`, score the forecasts."""
    root = Path(__file__).resolve().parents[1]
    (root / "runs" / "m4").mkdir(parents=True, exist_ok=True)
    ids = [f"H{i + 1}" for i in range(len(histories))]
    long = pd.DataFrame({"unique_id": np.repeat(ids, [len(h) for h in histories]), "y": np.concatenate(histories)})
    long.to_csv(root / command[3], index=False)
    rnnlab = [sys.executable, "-m", "rnnlab"]
    start = time.perf_counter()
    done = subprocess.run([*rnnlab, *command[1:]], cwd=root, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    fitted = json.loads(done.stdout.strip().splitlines()[-1])
    subprocess.run([*rnnlab, "forecast", "predict", command[3], "--model", "runs/m4/model", "--output",
                    "runs/m4/forecast.csv", "--overwrite"], cwd=root, check=True, capture_output=True)  # fmt: skip
    out = pd.read_csv(root / "runs" / "m4" / "forecast.csv")
    pred = [np.maximum(out.loc[out["unique_id"] == i, "y"].to_numpy(), 0.0) for i in ids]
    row = score(histories, actuals, pred, n2, PERIOD)
    row.update({"train_seconds": round(seconds, 1), "epochs": fitted["epochs"], "best_epoch": fitted["best_epoch"]})
    return row


if __name__ == "__main__":
    main()
