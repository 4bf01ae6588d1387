"""M4 Hourly: one global recurrent model over the 414 series, scored on the last 48 points of each training series.

    python benchmarks/forecast_m4.py [--quick]

The official test values are held out of this project: each training series' last 48
points are the validation part we report on (sMAPE, MASE with m = 24 scaled on the history,
OWA against Naive2 computed the same way), and the 48 points before them serve the model's
early stopping. Naive2 follows the M4 guide (seasonality test at lag 24, classical
multiplicative decomposition). Writes results/forecast_m4.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

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
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"error: {DATA} not found; this benchmark reads ../shared/data/m4_hourly beside the checkout")
    series = read_m4_wide(DATA)
    if args.quick:
        series = series[:40]
    if args.tune:  # drop the reported part: settings are chosen on the 48 points before it
        series = [s[:-HORIZON] for s in series]
    histories = [s[:-HORIZON] for s in series]
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
        [h[:, None] for h in histories], val_steps=args.val_steps, stride=args.stride, progress=args.progress
    )
    seconds = time.perf_counter() - start
    t0 = time.perf_counter()
    pred = forecaster.predict_arrays([h[:, None] for h in histories])[:, :, 0]
    predict_s = time.perf_counter() - t0
    name = f"global {args.model}" + (f", segments of {args.patch}" if args.patch else "") + " + RevIN (rnnlab)"
    rows[name] = score(histories, actuals, list(np.maximum(pred, 0.0)), n2, PERIOD)
    rows[name].update({"train_seconds": round(seconds, 1), "epochs": result.epochs, "best_epoch": result.best_epoch,
                       "predict_seconds_414_series": round(predict_s, 3)})  # fmt: skip
    print(f"{'method':46} {'sMAPE':>7} {'MASE':>7} {'OWA':>6}")
    for k, r in rows.items():
        print(f"{k:46} {r['smape']:7.3f} {r['mase']:7.3f} {r['owa']:6.3f}")
    print(f"training {seconds:.0f} s ({result.epochs} epochs, best {result.best_epoch}); target OWA <= 0.50")
    payload = {"environment": environment(), "series": len(series), "horizon": HORIZON, "period": PERIOD,
               "window_stride": args.stride, "val_steps": args.val_steps, "tune": args.tune,
               "config": config.to_dict(), "train": train.to_dict(), "results": rows}  # fmt: skip
    suffix = (
        ("_quick" if args.quick else "") + ("_tune" if args.tune else "") + (f"_seed{args.seed}" if args.seed else "")
    )
    path = write("forecast_m4" + suffix, payload)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
