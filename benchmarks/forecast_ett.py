"""ETTh1, Informer protocol: naive baselines (checked against known figures), linear, rnnlab's recurrent models.

    python benchmarks/forecast_ett.py [--quick]

Split 12/4/4 months (train rows 0–8,639, validation 8,640–11,519, test 11,520–14,399), z-scored
with training statistics, MSE/MAE on the normalised scale over every rolling test window;
univariate OT→OT at horizons 24, 48, 168 and multivariate 7→7 at 24; look-back 96 (and 336
tried at h = 168). LSTM and GRU with per-window normalisation (RevIN) are tried, and for the
multivariate setting also a channel-independent GRU (one global univariate model over the 7
variables); the choice, like early stopping, is made on the validation windows only, and
the test figures are reported once. ``--seeds N`` (default 5) retrains each setting's selected
model with seeds 1..N-1: the spread of its test MSE over seeds is reported, and the mean of the
N forecasts is one more candidate, chosen or not on validation like the others. Writes
results/forecast_ett.json.

    python benchmarks/forecast_ett.py --intervals

runs only the interval rows (univariate OT, h = 24, 48, 168): each setting's selected GRU + RevIN trained on the
pinball loss over seven quantile levels and calibrated by split conformal on the validation windows, beside last
value and seasonal naive with empirical intervals (the validation windows' residuals per horizon step); coverage and
width of the 95 % interval, MSIS (scaled by seasonal naive's in-sample MAE on the training rows, period 24) and CRPS
from the seven levels, on the test windows. Then the user's path at h = 24: `rnnlab forecast fit` (point and
interval models) and `forecast evaluate --start-row 11520`, timed, with the commands printed. Writes
results/forecast_ett_intervals.json.
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
from benchkit import RESULTS, environment, write
from rnnlab.forecast import LinearBaseline, last_value, seasonal_naive
from rnnlab.forecast.forecaster import Forecaster
from rnnlab.forecast.models import ForecastConfig
from rnnlab.forecast.protocols import SplitWindows, ett_windows
from rnnlab.metrics import coverage, crps, mae, mse, msis
from rnnlab.training import TrainConfig

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ett" / "ETTh1.csv"
COLUMNS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
KNOWN = {  # the figures for the naive baselines, computed exactly this way
    ("univariate", 24, "last_value"): 0.0343, ("univariate", 48, "last_value"): 0.0501,
    ("univariate", 168, "last_value"): 0.0872, ("multivariate", 24, "seasonal_naive"): 0.424,
    ("multivariate", 24, "last_value"): 1.222,
}  # fmt: skip
TARGETS = {("univariate", 24): 0.031, ("univariate", 48): 0.045, ("univariate", 168): 0.062, ("multivariate", 24): 0.30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="univariate h=24 only, 3 epochs")
    parser.add_argument("--only", choices=["univariate", "multivariate"], default=None,
                        help="run one setting; the other's rows stay as an earlier run wrote them")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=5,
                        help="retrain each setting's validation-selected model with this many seeds and add the mean "
                        "of their forecasts as one more candidate (1: off)")  # fmt: skip
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="run only the interval rows and the CLI path (writes forecast_ett_intervals.json)",
    )
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"error: {DATA} not found; this benchmark reads ../shared/data/ett/ETTh1.csv beside the checkout")
    values = pd.read_csv(DATA)[COLUMNS].to_numpy(np.float64)
    if args.intervals:
        return intervals(values)
    every = [("univariate", 24), ("univariate", 48), ("univariate", 168), ("multivariate", 24)]
    settings = [("univariate", 24)] if args.quick else [s for s in every if args.only in (None, s[0])]
    rows, spread = [], {}
    for setting, horizon in settings:
        cols = [6] if setting == "univariate" else list(range(7))
        w, _ = ett_windows(values[:, cols], input_width=96, horizon=horizon, inputs=range(len(cols)),
                           targets=range(len(cols)))  # fmt: skip
        test, val = w["test"], w["val"]
        k = range(len(cols))
        candidates = {
            "last_value": lambda x, h=horizon, k=k: last_value(x, h, k),
            "seasonal_naive": lambda x, h=horizon, k=k: seasonal_naive(x, h, k, period=24),
        }
        for name, fn in candidates.items():
            rows.append(_row(setting, horizon, name, "baseline", fn(val.x), val.y, fn(test.x), test.y, 0.0, None))
        start = time.perf_counter()
        lin = LinearBaseline().fit(w["train"].x, w["train"].y)
        rows.append(_row(setting, horizon, "linear (ridge on the window)", "baseline", lin.predict(val.x), val.y,
                         lin.predict(test.x), test.y, time.perf_counter() - start, None))  # fmt: skip
        fitted = {}
        for cand in candidates_for(setting, horizon, args.quick):
            label, pv, pt, seconds, per_1000, (yv, yt) = fit_candidate(values[:, cols], horizon, cand, 0, args.quick)
            fitted[label] = (cand, pv, pt, seconds, yv, yt)
            rows.append(_row(setting, horizon, label, "rnnlab", pv, yv, pt, yt, seconds, per_1000))
        # the validation-selected model again with other seeds, and the mean of their forecasts: the same model as
        # ForecastConfig(members=N) / `rnnlab forecast fit --members N` trains (member k = the single one of seed k)
        if args.seeds > 1:
            label = min((r for r in rows if r["setting"] == setting and r["horizon"] == horizon
                         and r["kind"] == "rnnlab"), key=lambda r: r["val_mse"])["name"]  # fmt: skip
            cand, pv, pt, total, yv, yt = fitted[label]
            preds_v, preds_t = [pv], [pt]
            for seed in range(1, args.seeds):
                _, pv, pt, seconds, _, _ = fit_candidate(values[:, cols], horizon, cand, seed, args.quick)
                rows.append(_row(setting, horizon, f"{label}, seed {seed}", "seed", pv, yv, pt, yt, seconds, None))
                preds_v.append(pv)
                preds_t.append(pt)
                total += seconds
            rows.append(_row(setting, horizon, f"{label}, mean of {args.seeds} seeds", "rnnlab", np.mean(preds_v, 0),
                             yv, np.mean(preds_t, 0), yt, total, None))  # fmt: skip
            spread[(setting, horizon)] = {"model": label, "val_mse": [mse(yv, p) for p in preds_v],
                                          "test_mse": [mse(yt, p) for p in preds_t]}  # fmt: skip
        if setting == "multivariate":
            tr, va, te = (_ci(w[s]) for s in ("train", "val", "test"))
            lin = LinearBaseline().fit(tr.x, tr.y)
            rows.append(_row(setting, horizon, "linear, channel-independent", "baseline", lin.predict(va.x), va.y,
                             lin.predict(te.x), te.y, 0.0, None))  # fmt: skip
        print_setting([r for r in rows if r["setting"] == setting and r["horizon"] == horizon])
    summary = {}
    for setting, horizon in settings:
        mine = [r for r in rows if r["setting"] == setting and r["horizon"] == horizon]
        best = min((r for r in mine if r["kind"] == "rnnlab"), key=lambda r: r["val_mse"])  # chosen on validation
        naive = min(r["test_mse"] for r in mine if r["name"] in ("last_value", "seasonal_naive"))
        summary[f"{setting} h={horizon}"] = {
            "selected_on_validation": best["name"], "test_mse": best["test_mse"], "test_mae": best["test_mae"],
            "best_naive_test_mse": naive, "target_mse": TARGETS[(setting, horizon)],
            "meets_target": best["test_mse"] <= TARGETS[(setting, horizon)], "train_seconds": best["train_seconds"],
        }  # fmt: skip
        if (setting, horizon) in spread:  # how much the seed alone moves the selected model
            summary[f"{setting} h={horizon}"]["seeds"] = spread[(setting, horizon)]
    checks = {f"{s} h={h} {n} = {v}": abs(next(r["test_mse"] for r in rows if (r["setting"], r["horizon"],
              r["name"]) == (s, h, n)) - v) < 5e-4 * max(1, v * 10) for (s, h, n), v in KNOWN.items()
              if (s, h) in settings}  # fmt: skip
    print("\nselected on validation, scored on test:")
    for key, s in summary.items():
        print(f"  {key:18} {s['selected_on_validation']:14} test MSE {s['test_mse']:.4f} (target <= {s['target_mse']}, "
              f"best naive {s['best_naive_test_mse']:.4f}) {'met' if s['meets_target'] else 'NOT met'}")  # fmt: skip
    print("baseline figures reproduced:", checks)
    name = "forecast_ett" + ("_quick" if args.quick else "")
    if args.only:  # keep the other setting's rows and summary from the earlier run
        old = json.loads((RESULTS / f"{name}.json").read_text())
        rows = [r for r in old["results"] if r["setting"] != args.only] + rows
        summary = {**{k: v for k, v in old["summary"].items() if not k.startswith(args.only)}, **summary}
        checks = {**{k: v for k, v in old["baseline_checks"].items() if not k.startswith(args.only)}, **checks}
    payload = {"environment": environment(), "results": rows, "summary": summary, "baseline_checks": checks}
    path = write(name, payload)
    print(f"wrote {path}")


LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
INTERVAL_MODELS = {24: ("gru", 96), 48: ("gru", 96), 168: ("gru", 336)}  # each horizon's selected single GRU


def intervals(values: np.ndarray) -> None:
    """The interval rows, then the CLI path; see the module's docstring."""
    rows = []
    ot = values[:, [6]]
    scale_history = (ot[:8640, 0] - ot[:8640, 0].mean()) / ot[:8640, 0].std()  # the protocol's z-scored training OT
    for horizon, (model, width) in INTERVAL_MODELS.items():
        w, _ = ett_windows(ot, input_width=width, horizon=horizon, inputs=[0], targets=[0])
        tr, va, te = w["train"], w["val"], w["test"]
        naive = {"last value": last_value, "seasonal naive": lambda x, h, k: seasonal_naive(x, h, k, period=24)}
        for name, fn in naive.items():
            point_v, point_t = fn(va.x, horizon, [0]), fn(te.x, horizon, [0])
            residual = np.quantile(va.y - point_v, LEVELS, axis=0)  # (Q, H, 1): per horizon step
            bands = point_t[..., None] + np.moveaxis(residual, 0, -1)[None]
            rows.append(_interval_row(horizon, f"{name}, empirical intervals", te.y, point_t, bands, scale_history, 0))
        config = ForecastConfig(model=model, input_width=width, horizon=horizon, revin=True, quantiles=LEVELS)
        f = Forecaster(config, TrainConfig(max_epochs=20, lr=1e-3, batch_size=64, patience=3, seed=0), conformal=True)
        start = time.perf_counter()
        f.fit_windows(tr.x, tr.y, va.x, va.y)
        f.calibrate(va.x, va.y)
        seconds = time.perf_counter() - start
        bands = f.predict_quantile_windows(te.x)
        label = f"{model} + RevIN, input {width}, 7 quantiles + conformal"
        rows.append(_interval_row(horizon, label, te.y, bands[..., 3], bands, scale_history, seconds))
        print_intervals([r for r in rows if r["horizon"] == horizon])
    cli = cli_path(values)
    payload = {"environment": environment(), "levels": list(LEVELS), "results": rows, "cli": cli}
    print(f"wrote {write('forecast_ett_intervals', payload)}")


def _interval_row(horizon, name, y, point, bands, history, seconds) -> dict:
    lo, hi = bands[..., 0], bands[..., -1]
    return {"horizon": horizon, "name": name, "test_mse": mse(y, point), "coverage_95": coverage(y, lo, hi),
            "width_95": float(np.mean(hi - lo)), "msis": msis(y.ravel(), lo.ravel(), hi.ravel(), history, 24),
            "crps": crps(y, bands, LEVELS), "crossing": bool((np.diff(bands, axis=-1) < 0).any()),
            "train_seconds": round(seconds, 1)}  # fmt: skip


def print_intervals(rows: list[dict]) -> None:
    print(f"\nunivariate OT h={rows[0]['horizon']}: 95 % intervals on the test windows")
    print(f"  {'model':52} {'MSE':>7} {'cover95':>8} {'width':>6} {'MSIS':>7} {'CRPS':>7} {'fit s':>6}")
    for r in rows:
        print(f"  {r['name']:52} {r['test_mse']:7.4f} {r['coverage_95']:8.3f} {r['width_95']:6.3f} {r['msis']:7.3f} "
              f"{r['crps']:7.4f} {r['train_seconds']:6.1f}", flush=True)  # fmt: skip


def cli_path(values: np.ndarray) -> list[dict]:
    """`rnnlab forecast fit` on rows 0-11,519 (the last 2,880 the dev part, as the protocol's validation) and
    `forecast evaluate --start-row 11520` on rows 0-14,399: the test windows, scored as the benchmark scores them."""
    root = Path(__file__).resolve().parents[1]
    (root / "runs" / "ett").mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(DATA)[["date", "OT"]]
    frame.iloc[:11520].to_csv(root / "runs" / "ett" / "ETTh1_train_val.csv", index=False)
    frame.iloc[:14400].to_csv(root / "runs" / "ett" / "ETTh1_to_test.csv", index=False)
    fit = ["rnnlab", "forecast", "fit", "runs/ett/ETTh1_train_val.csv", "--time-col", "date", "--target", "OT",
           "--input-width", "96", "--horizon", "24", "--model", "gru", "--val-steps", "2880", "--max-epochs", "20",
           "--batch-size", "64", "--lr", "1e-3", "--patience", "3", "--seed", "0", "--no-progress", "--json",
           "--overwrite"]  # fmt: skip
    variants = {"point (MSE loss)": [], "7 quantiles + conformal": ["--quantiles", ",".join(map(str, LEVELS)),
                                                                   "--conformal"]}  # fmt: skip
    out = []
    for k, (name, extra) in enumerate(variants.items()):
        model_dir = f"runs/ett/cli_model_{k}"
        command = [*fit, *extra, "--out", model_dir]
        evaluate = ["rnnlab", "forecast", "evaluate", "runs/ett/ETTh1_to_test.csv", "--model", model_dir,
                    "--start-row", "11520", "--json"]  # fmt: skip
        print(f"\n{name}:\n  {shlex.join(command)}\n  {shlex.join(evaluate)}", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", *command], cwd=root, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        fitted = json.loads(done.stdout.strip().splitlines()[-1])
        scored = subprocess.run([sys.executable, "-m", *evaluate], cwd=root, check=True, capture_output=True, text=True)
        metrics = json.loads(scored.stdout.strip().splitlines()[-1])
        out.append({"name": name, "fit": shlex.join(command), "evaluate": shlex.join(evaluate),
                    "fit_seconds_through_cli": round(seconds, 1), "epochs": fitted.get("epochs"),
                    "best_epoch": fitted.get("best_epoch"), "test": metrics})  # fmt: skip
        print(f"  fit {seconds:.0f} s; test {json.dumps(metrics)}", flush=True)
    # the README's picture: the interval model's forecast of the day after the validation rows, with its bands
    band = ["rnnlab", "forecast", "predict", "runs/ett/ETTh1_train_val.csv", "--model", model_dir, "--output",
            "runs/ett/band.csv", "--plot", "benchmarks/results/forecast_ett_band.png", "--overwrite"]  # fmt: skip
    subprocess.run([sys.executable, "-m", *band], cwd=root, check=True, capture_output=True, text=True)
    print(f"\n  {shlex.join(band)}", flush=True)
    return out


def fit_candidate(values: np.ndarray, horizon: int, cand: tuple, seed: int, quick: bool):
    """Train one candidate on the training windows (early stopping on validation); its label and forecasts."""
    model, width, independent, highway, patch, hidden = cand
    n = values.shape[1]
    cw, _ = ett_windows(values, input_width=width, horizon=horizon, inputs=range(n), targets=range(n))
    tr, va, te = (_ci(cw[s]) if independent else cw[s] for s in ("train", "val", "test"))
    config = ForecastConfig(model=model, input_width=width, horizon=horizon, n_inputs=tr.x.shape[2],
                            targets=tuple(range(tr.y.shape[2])), hidden_size=hidden,
                            revin=True, highway=highway, patch=patch)  # fmt: skip
    train = TrainConfig(max_epochs=3 if quick else 20, lr=1e-3, batch_size=256 if independent else 64,
                        patience=3, seed=seed)  # fmt: skip
    f = Forecaster(config, train)
    start = time.perf_counter()
    f.fit_windows(tr.x, tr.y, va.x, va.y)
    seconds = time.perf_counter() - start
    t0 = time.perf_counter()
    pred_test = f.predict_windows(te.x)
    per_1000 = (time.perf_counter() - t0) / len(te.x) * 1000
    label = f"{model} + RevIN, input {width}" + (", channel-independent" if independent else "")
    label += f", highway {highway}" if highway else ""
    label += f", segments of {patch}, hidden {hidden}" if patch else ""
    return label, f.predict_windows(va.x), pred_test, seconds, per_1000, (va.y, te.y)


def candidates_for(setting: str, horizon: int, quick: bool) -> list[tuple[str, int, bool, int, int, int]]:
    """(model, input width, channel-independent, highway, patch, hidden) tried per setting; chosen on validation."""
    if quick:
        return [("lstm", 96, False, 0, 0, 64)]
    out = [("lstm", 96, False, 0, 0, 64), ("gru", 96, False, 0, 0, 64)]
    if horizon >= 168:
        out += [("lstm", 336, False, 0, 0, 64), ("gru", 336, False, 0, 0, 64)]
    if setting == "multivariate":
        # channel-independent, + LSTNet's linear highway
        out += [("gru", 96, True, 0, 0, 64), ("gru", 96, True, 96, 0, 64)]
        # the longer look-back channel-independent models use (PatchTST, DLinear)
        out += [("gru", 336, True, 336, 0, 64)]
        # the M4 model's reading (SegRNN, Lin et al. 2023): 14 daily segments of 24 hours, hidden 256
        out += [("gru", 336, True, 0, 24, 256)]
    return out


def _ci(split: SplitWindows) -> SplitWindows:
    """Channel independence: each of the C variables becomes a univariate series of its own (N·C windows)."""
    flat = lambda a: a.transpose(0, 2, 1).reshape(-1, a.shape[1], 1)  # noqa: E731
    return SplitWindows(flat(split.x), flat(split.y))


def _row(setting, horizon, name, kind, pv, yv, pt, yt, seconds, per_1000) -> dict:
    return {"setting": setting, "horizon": horizon, "name": name, "kind": kind, "val_mse": mse(yv, pv),
            "test_mse": mse(yt, pt), "test_mae": mae(yt, pt), "train_seconds": round(seconds, 1),
            "predict_ms_per_1000_windows": None if per_1000 is None else round(per_1000 * 1000, 1)}  # fmt: skip


def print_setting(rows: list[dict]) -> None:
    print(f"\n{rows[0]['setting']} h={rows[0]['horizon']}")
    print(f"  {'model':30} {'val MSE':>8} {'test MSE':>9} {'test MAE':>9} {'fit s':>7} {'ms/1000 win':>11}")
    for r in rows:
        ms = "-" if r["predict_ms_per_1000_windows"] is None else f"{r['predict_ms_per_1000_windows']:.1f}"
        print(f"  {r['name']:30} {r['val_mse']:8.4f} {r['test_mse']:9.4f} {r['test_mae']:9.4f} "
              f"{r['train_seconds']:7.1f} {ms:>11}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
