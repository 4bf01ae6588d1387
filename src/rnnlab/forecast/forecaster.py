"""The ``Forecaster``: fit / predict / evaluate / cross_validate / save / load over windows or whole series.

>>> import numpy as np
>>> t = np.arange(300, dtype=np.float32)
>>> values = np.sin(2 * np.pi * t / 24)[:, None]
>>> f = Forecaster(ForecastConfig(model="gru", input_width=24, horizon=6, hidden_size=16),
...                TrainConfig(max_epochs=3, lr=1e-2, seed=0))
>>> _ = f.fit_arrays([values])
>>> f.predict_arrays([values]).shape  # the 6 steps after the end of each series
(1, 6, 1)
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from rnnlab import io, tasks
from rnnlab.cards import model_card
from rnnlab.data.scaling import Standardizer
from rnnlab.data.series import SeriesData, read_like
from rnnlab.data.splits import WindowSplit
from rnnlab.data.windows import WindowSpec, make_windows
from rnnlab.errors import ConfigError, DataError, ModelFileError
from rnnlab.forecast.config import DEFAULT_TRAIN
from rnnlab.forecast.frames import Source, data_settings, forecast_frame
from rnnlab.forecast.models import ForecastConfig, ForecastNet, ForecastOutputs, forecast_outputs, per_step_labels
from rnnlab.metrics import conformal_offsets, coverage, crps, mae, mse, rmse
from rnnlab.metrics.probabilistic import conformal_windows_needed, pinball_levels
from rnnlab.training import FitResult, Objective, TrainConfig, fit, member_dir, seeded_network
from rnnlab.training.members import fit_members, members_of

SETTINGS_FILE = "forecaster.json"


LOSSES: tuple[str, ...] = ("mse", "mae", "scaled_mae")


def _scaled_l1(pred: torch.Tensor, y: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return ((pred - y).abs() / scale).mean()


def _pinball(quantiles: torch.Tensor, y: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Per element (B, H, K, Q): max(q·(y − f), (q − 1)·(y − f)) of each level q."""
    diff = y[..., None] - quantiles
    return torch.maximum(levels * diff, (levels - 1) * diff)


def distribution_nll(out: ForecastOutputs, y: torch.Tensor) -> torch.Tensor:
    """The mean negative log-likelihood of ``y`` under a parametric forecast: normal (``out.sigma``), or Student-t
    with ``out.df`` degrees of freedom."""
    u = (y - out.forecast) / out.sigma
    if out.df is None:
        return (torch.log(out.sigma) + 0.5 * u**2).mean() + 0.5 * math.log(2 * math.pi)
    v = out.df
    log_norm = torch.lgamma(v / 2) - torch.lgamma((v + 1) / 2) + 0.5 * torch.log(v * math.pi)
    return (log_norm + torch.log(out.sigma) + (v + 1) / 2 * torch.log1p(u * u / v)).mean()


def objective(loss: str = "mse", quantiles: tuple[float, ...] = (), distribution: str = "none") -> Objective:
    """``scaled_mae``: the MAE of each window divided by that window's own std (RevIN's scale), so that
    every window weighs the same whatever its level: the M4 metrics' view (sMAPE, MASE are scale-free).
    With ``quantiles`` the network forecasts those levels and trains on their mean pinball loss (divided by each
    window's scale with ``scaled_mae``): early stopping watches the dev pinball loss. A ``normal`` distribution
    (or ``student_t``) trains on its negative log-likelihood (early stopping on the dev NLL); its quantiles are read
    from it."""
    levels = torch.tensor(quantiles, dtype=torch.float32)

    def criterion(pred: torch.Tensor, y: torch.Tensor, scale: torch.Tensor | None) -> torch.Tensor:
        if loss == "scaled_mae":  # scale (B, 1, K); per-step outputs (B, T, H, K) need one more axis
            if scale is None:
                raise ValueError("scaled_mae needs each window's RevIN scale, from one network (an ensemble is "
                                 "trained member by member)")  # fmt: skip
            return _scaled_l1(pred, y, scale if pred.dim() == 3 else scale[:, :, None])
        return {"mse": F.mse_loss, "mae": F.l1_loss}[loss](pred, y)

    def quantile_loss(out, y: torch.Tensor) -> torch.Tensor:
        per = _pinball(out.quantiles, y, levels.to(y.device))
        if loss == "scaled_mae":
            per = per / out.window_scale[..., None]
        return per.mean()

    def loss_fn(model: ForecastNet, batch) -> torch.Tensor:
        x, y = batch
        out = model.outputs(x)
        if out.sigma is not None:
            return distribution_nll(out, y)
        if quantiles:
            return quantile_loss(out, y)
        if out.every_step is not None:  # per_step: every window step is trained on
            return criterion(out.every_step, per_step_labels(x, y, model.config.targets), out.window_scale)
        return criterion(out.forecast, y, out.window_scale)

    def metrics(model: ForecastNet, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        out = model.outputs(x)
        pred = out.forecast
        metrics = {"mse": F.mse_loss(pred, y), "mae": F.l1_loss(pred, y)}
        if loss == "scaled_mae":
            metrics["scaled_mae"] = criterion(pred, y, out.window_scale)
        if quantiles:
            metrics["pinball"] = quantile_loss(out, y)
        if out.sigma is not None:
            metrics["nll"] = distribution_nll(out, y)
        return metrics

    monitor = "val_pinball" if quantiles else "val_scaled_mae" if loss == "scaled_mae" else "val_mse"
    if distribution != "none":
        monitor = "val_nll"
    return Objective(loss=loss_fn, metrics=metrics, monitor=monitor, mode="min")


def dev_at_best(result: FitResult) -> dict[str, float]:
    """The dev metrics (mse, mae, scaled_mae, ...) of the epoch early stopping kept; {} without dev."""
    for row in result.history:
        if row.get("epoch") == result.best_epoch:
            return {k[4:]: v for k, v in row.items() if k.startswith("val_") and k != "val_loss"}
    return {}


def _check_val_steps(val_steps: int, shortest: int, spec: WindowSpec) -> None:
    """The dev part (the last ``val_steps`` of each series) must hold one window's labels and leave one whole
    window for training in the shortest series; else a one-line error with the range that works.

    >>> _check_val_steps(0, 80, WindowSpec.forecast(8, 2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    rnnlab.errors.ConfigError: val_steps (--val-steps) = 0 must be between 2 and 70 for series of 80 steps ...
    """
    low, high = spec.shift, shortest - spec.total_size
    if low > high:
        raise DataError(
            f"the shortest series has {shortest} steps; fitting needs at least {spec.total_size + spec.shift}: one "
            f"training window of {spec.total_size} (input_width {spec.input_width} + {spec.shift}) and a dev part "
            f"of {spec.shift}",
            hint="give longer series, or a shorter --input-width or --horizon",
        )
    if not isinstance(val_steps, int) or isinstance(val_steps, bool) or not low <= val_steps <= high:
        raise ConfigError(
            f"val_steps (--val-steps) = {val_steps} must be between {low} and {high} for series of {shortest} steps "
            f"(the shortest): the dev part holds at least one forecast of {spec.shift} step(s) and the training part "
            f"at least one window of {spec.total_size} steps (input_width {spec.input_width} + {spec.shift})"
        )


def _check_history(x: np.ndarray, series: Sequence[np.ndarray], width: int) -> None:
    """Standardised histories x (S, W, F) must be finite: a NaN or inf (or a value whose scaling overflows)
    would make the forecast NaN or inf."""
    bad = ~np.isfinite(x)
    if bad.any():
        i, step, column = (int(v) for v in np.argwhere(bad)[0])
        at = len(series[i]) - width + step
        raise DataError(
            f"series {i} holds {float(series[i][at, column]):.6g} at step {at}, column {column} (of the last "
            f"{width} steps the model reads); a history must be finite and within float32's range",
            hint="fill missing values and fix or remove infinite or huge ones",
        )


class Forecaster:
    """A forecasting network with its scaler and window settings; works on standardised windows."""

    def __init__(self, config: ForecastConfig, train: TrainConfig | None = None, *, loss: str = "mse",
                 conformal: bool = False) -> None:  # fmt: skip
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, received {loss!r}")
        if loss != "mse" and config.distribution != "none":
            raise ValueError(f"a distribution ({config.distribution}) trains on its negative log-likelihood: loss "
                             f"{loss!r} would not be used; leave the loss out")  # fmt: skip
        if loss == "scaled_mae" and not config.revin:
            raise ValueError("loss 'scaled_mae' divides by each window's RevIN scale: set revin=True")
        if conformal and not config.quantiles:
            raise ValueError("conformal calibration (--conformal) widens quantile intervals: give --quantiles too")
        self.config, self.train_config, self.loss = config, train or DEFAULT_TRAIN, loss
        self.conformal = conformal
        self.offsets: np.ndarray | None = None  # split-conformal widening (pairs, H, K), standardised, from the dev
        self.net = seeded_network(ForecastNet, config, self.train_config.seed)  # member k: the network of seed + k
        self.scaler: Standardizer | None = None
        self.spec = WindowSpec.forecast(config.input_width, config.horizon)
        self.info: dict = {}  # what the last fit measured; saved with the model
        self.data_settings: dict = {}  # how fit(df) read its data (columns, fill, calendar, freq); saved too
        self.series_ids: list[str] | None = None  # the fitted series' ids, one per scaler row (None: by position)

    # --- windows ---------------------------------------------------------------------------
    def fit_windows(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray | None = None,
                    y_val: np.ndarray | None = None, *, progress: bool = False,
                    out_dir: str | Path | None = None, resume: bool = False) -> FitResult:  # fmt: skip
        """Train on standardised windows x (N, W, F) -> y (N, H, K); early stopping on (x_val, y_val).

        An ensemble (``config.members > 1``) trains its members one after the other, member k
        with seed + k (``max_time`` shared); the result then describes the ensemble: its dev
        scores are those of the mean forecast, and its history holds every member's epochs.
        ``out_dir``: where the checkpoints go; ``resume``: continue an interrupted run from them.
        """
        train = TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
        val = None if x_val is None else TensorDataset(torch.as_tensor(x_val), torch.as_tensor(y_val))
        nets = members_of(self.net)
        task = objective(self.loss, self.config.quantiles, self.config.distribution)
        results: list[FitResult] = fit_members(nets, self.train_config, lambda k, net, config: fit(
            net, train, val, objective=task, config=config, progress=progress,
            out_dir=member_dir(out_dir, k, len(nets)), resume=resume))  # fmt: skip
        self.net.eval()
        if len(nets) == 1:
            result = results[0]
            best = dev_at_best(result) if val is not None else {}
        else:
            best = {} if x_val is None else self._scores(x_val, y_val)  # type: ignore[arg-type]
            result = FitResult(
                monitor=results[0].monitor, best_score=best.get(results[0].monitor[4:]), best_epoch=None,
                epochs=sum(r.epochs for r in results), stopped_early=any(r.stopped_early for r in results),
                seconds=sum(r.seconds for r in results),
                history=[{**row, "member": k} for k, r in enumerate(results) for row in r.history],
            )  # fmt: skip
        self.info = {"train_windows": len(x), "best_dev_mse": best.get("mse"), "best_epoch": result.best_epoch,
                     "epochs": result.epochs, "seconds": result.seconds}  # fmt: skip
        if "scaled_mae" in best:
            self.info["best_dev_scaled_mae"] = best["scaled_mae"]
        if len(nets) > 1:
            self.info["members"] = [{"seed": self.train_config.seed + k, "best_epoch": r.best_epoch,
                                     "best_dev_mse": dev_at_best(r).get("mse"), "epochs": r.epochs,
                                     "seconds": r.seconds} for k, r in enumerate(results)]  # fmt: skip
        return result

    def _scores(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Dev scores of the forecasts as the training objective logs them (mse, mae, scaled_mae with RevIN)."""
        pred = self.predict_windows(x)
        out = {"mse": mse(y, pred), "mae": mae(y, pred)}
        if self.loss == "scaled_mae":  # each window's error over its targets' std, as RevIN computes it
            std = np.sqrt(x[:, :, list(self.config.targets)].var(1, keepdims=True) + 1e-5)
            out["scaled_mae"] = float(np.mean(np.abs(pred - y) / std))
        if self.config.quantiles:  # the mean pinball loss of the levels, as the training objective logs it
            levels = self.config.quantiles
            out["pinball"] = float(np.mean(pinball_levels(y, self.predict_quantile_windows(x), levels)))
        return out

    @torch.no_grad()
    def predict_windows(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Standardised forecasts for every window, in batches (no per-window Python loop)."""
        self.net.eval()
        parts = [self.net(torch.as_tensor(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        return torch.cat(parts).numpy()

    def evaluate_windows(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        pred = self.predict_windows(x)
        if not np.isfinite(pred).all():
            raise self._not_finite(pred, list(x))
        return {"mse": mse(y, pred), "mae": mae(y, pred), "rmse": rmse(y, pred), "windows": len(x)}

    # --- whole series ------------------------------------------------------------------------
    def scaler_rows(self, n: int, ids: Sequence[str] | None = None) -> list[int]:
        """The fitted series whose scaling each of ``n`` series takes: the one of the same id when the data names its
        series and the model saved its ids (Darts' and NeuralForecast's per-series scalers), else by position.
        A series id the model was not fitted on is an error: its mean and std are unknown."""
        count = len(self.scaler.mean)
        if ids is not None and self.series_ids is not None:
            index = {sid: k for k, sid in enumerate(self.series_ids)}
            unknown = [str(sid) for sid in ids if str(sid) not in index]
            if unknown:
                known = ", ".join(map(repr, self.series_ids[:5])) + (", ..." if count > 5 else "")
                raise DataError(
                    f"series {', '.join(map(repr, unknown[:3]))}{' ...' if len(unknown) > 3 else ''} not among the "
                    f"{count} the model was fitted on ({known}): its scaling (mean and std) is unknown",
                    hint="forecast only the series the model was fitted on, or fit it on data that holds these",
                )  # fmt: skip
            return [index[str(sid)] for sid in ids]
        if ids is not None and n != count:  # a model saved before its ids were: only the fit's order is known
            raise DataError(f"the data holds {n} series and the model the scaling of {count}, saved without their "
                            "ids", hint="give the series the model was fitted on, in the same order, or refit "
                            "it")  # fmt: skip
        if n > count:
            raise DataError(f"{n} series given; the model holds the scaling of {count} (one per fitted series)",
                            hint=f"give at most {count} series, in the order of the fit")  # fmt: skip
        return list(range(n))

    def _window_parts(self, series: Sequence[np.ndarray], start: int | Sequence[int] = 0,
                      rows: Sequence[int] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
        """Each series' standardised windows (x, y), with its own scaler (row ``rows[i]``, default ``i``), from
        its first label at step ``start`` (one for all, or one per series)."""
        c = self.config
        rows = range(len(series)) if rows is None else rows
        starts = [start] * len(series) if isinstance(start, int | np.integer) else list(start)
        return [make_windows(self.scaler.transform(k, values), self.spec, inputs=range(c.n_inputs), labels=c.targets,
                             start=int(first))
                for k, values, first in zip(rows, series, starts, strict=True)]  # fmt: skip

    def _windows(self, series: Sequence[np.ndarray], start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        parts = self._window_parts(series, start)
        return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])

    def fit_arrays(self, series: Sequence[np.ndarray], *, val_steps: int | None = None, stride: int = 1,
                   progress: bool = False, out_dir: str | Path | None = None, resume: bool = False,
                   ids: Sequence[str] | None = None) -> FitResult:  # fmt: skip
        """One global model over all ``series`` (T_i, n_inputs); the last ``val_steps`` of each series
        (default: 10 %) are the dev part, whose windows may read earlier steps as context.
        ``stride`` keeps every stride-th training window (overlapping windows repeat each other).
        ``ids``: the series' names, saved so that predict scales each series with its own statistics."""
        if ids is not None and len(set(map(str, ids))) != len(series):
            raise ValueError(f"ids must name each of the {len(series)} series once, received {list(ids)[:5]}")
        self.series_ids = None if ids is None else [str(sid) for sid in ids]
        lengths = [len(s) for s in series]
        val_steps = val_steps if val_steps is not None else max(self.config.horizon, min(lengths) // 10)
        _check_val_steps(val_steps, min(lengths), self.spec)
        train_parts = [s[: len(s) - val_steps] for s in series]
        self.scaler = Standardizer.fit(train_parts)
        x, y = self._windows(train_parts)
        x, y = x[::stride], y[::stride]
        # dev windows: every label in the last val_steps, the inputs reaching back into the training part
        xv, yv = self._windows([s[len(s) - val_steps - self.spec.input_width :] for s in series])
        if self.conformal:  # before training: the calibration would fail after it, with the time spent
            self._check_calibration_windows(len(xv))
        result = self.fit_windows(x, y, xv, yv, progress=progress, out_dir=out_dir, resume=resume)
        if self.conformal:
            self.calibrate(xv, yv)
        return result

    def _check_calibration_windows(self, n: int) -> None:
        """Enough dev windows to calibrate every interval (the ⌈(n + 1)(1 − α)⌉-th score must exist)."""
        levels = self.config.quantiles
        for i in range(len(levels) // 2):
            alpha = levels[i] + 1 - levels[-1 - i]
            if n < (need := conformal_windows_needed(alpha)):
                raise DataError(f"conformal calibration: {n} dev window(s) cannot calibrate a {1 - alpha:.0%} "
                                f"interval: it needs at least {need} (dev windows, one per step of --val-steps and "
                                "series)", hint="hold out more steps with --val-steps")  # fmt: skip

    def calibrate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Split-conformal calibration of the intervals (conformalised quantile regression, per horizon step and
        target) on standardised windows never trained on (``fit`` uses the dev part, which early stopping also
        read): each pair of levels (the i-th lowest and i-th highest) is widened, or narrowed, so that it covers
        its stated share of those windows. Returns and keeps the offsets (pairs, H, K)."""
        levels = self.config.quantiles
        self.offsets = None
        raw = self.predict_quantile_windows(x)
        offsets = []
        for i in range(len(levels) // 2):
            alpha = levels[i] + 1 - levels[-1 - i]
            try:
                offsets.append(conformal_offsets(y, raw[..., i], raw[..., -1 - i], alpha))
            except ValueError as exc:
                raise DataError(f"conformal calibration: {exc} (dev windows, one per step of --val-steps and "
                                "series)", hint="hold out more steps with --val-steps") from None  # fmt: skip
        self.offsets = np.stack(offsets).astype(np.float32)
        self.info["conformal_dev_windows"] = len(x)
        return self.offsets

    @torch.no_grad()
    def predict_quantile_windows(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Standardised quantile forecasts (N, H, K, Q) of a network fitted with ``config.quantiles``."""
        if not self.config.quantiles:
            raise ValueError("this forecaster forecasts points only: fit it with quantiles (--quantiles)")
        self.net.eval()
        parts = [
            forecast_outputs(self.net, torch.as_tensor(x[i : i + batch_size])).quantiles
            for i in range(0, len(x), batch_size)
        ]
        return apply_offsets(torch.cat(parts).numpy(), self.offsets)

    def histories(self, series: Sequence[np.ndarray], ids: Sequence[str] | None = None
                  ) -> tuple[list[int], np.ndarray]:  # fmt: skip
        """The scaler row of each series and its last ``input_width`` steps standardised (S, W, F), float32: each
        series (T, F) long enough and finite, else a one-line DataError."""
        c = self.config
        if (isinstance(series, np.ndarray) and series.ndim == 2) or not len(series):
            given = "one (steps, inputs) array" if len(series) else "no series"
            raise DataError(f"{given} given: the forecaster reads a list of series",
                            hint="pass [array] (one (steps, inputs) array per series)")  # fmt: skip
        for i, s in enumerate(series):
            if np.ndim(s) != 2 or np.shape(s)[1] != c.n_inputs:
                raise DataError(f"series {i} has shape {np.shape(s)}; the model reads (steps, {c.n_inputs}) arrays",
                                hint="give each series as a 2-D array, one column per input")  # fmt: skip
            if len(s) < c.input_width:
                raise DataError(
                    f"series {i} has {len(s)} step(s); the model reads the last input_width={c.input_width}",
                    hint=f"give at least {c.input_width} rows of history",
                )
        rows = self.scaler_rows(len(series), ids)
        with np.errstate(over="ignore", invalid="ignore"):
            x = np.stack([self.scaler.transform(k, s[-c.input_width :]) for k, s in zip(rows, series, strict=True)])
        _check_history(x, series, c.input_width)
        return rows, x.astype(np.float32)

    def predict_arrays(self, series: Sequence[np.ndarray], ids: Sequence[str] | None = None, *,
                       quantiles: bool = False) -> np.ndarray:  # fmt: skip
        """The ``horizon`` steps after the end of each series, in the original units: (S, H, K); with ``quantiles``
        the forecast of each of ``config.quantiles`` (S, H, K, Q) instead.

        ``ids``: the series' names, each scaled as the fitted series of that id (see :meth:`scaler_rows`);
        without them the i-th series takes the i-th fitted series' scaling.

        Each series needs at least ``input_width`` finite steps; a forecast that is not finite (a
        history far outside the training range, or a damaged model) is an error, never NaN.
        """
        rows, x = self.histories(series, ids)
        out = self.data_units(rows, self.predict_quantile_windows(x) if quantiles else self.predict_windows(x))
        if not np.isfinite(out).all():
            raise self._not_finite(out, series)
        return out

    def predict_with_quantiles(self, series: Sequence[np.ndarray], ids: Sequence[str] | None = None
                               ) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
        """The point forecasts (S, H, K) and, for a model fitted with ``config.quantiles``, every level's
        (S, H, K, Q), else None: one pass of the network (the point forecast is the median level)."""
        levels = self.config.quantiles
        if not levels:
            return self.predict_arrays(series, ids), None
        bands = self.predict_arrays(series, ids, quantiles=True)
        return bands[..., levels.index(0.5)], bands

    def data_units(self, rows: Sequence[int], standardised: np.ndarray) -> np.ndarray:
        """Standardised forecasts (S, H, K) or quantiles (S, H, K, Q) in the data's units, series i scaled back with
        the scaler's row ``rows[i]``."""
        quantiles = standardised.ndim == 4
        moved = standardised.transpose(0, 3, 1, 2) if quantiles else standardised  # the scaler's columns last
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.stack([self.scaler.inverse(k, p, self.config.targets) for k, p in zip(rows, moved, strict=True)])
        return out.transpose(0, 2, 3, 1) if quantiles else out

    def _not_finite(self, out: np.ndarray, series: Sequence[np.ndarray]) -> Exception:
        """Why a forecast came out NaN or ±inf: non-finite weights (the model), else the history's scale."""
        broken = sum(int((~torch.isfinite(p)).sum()) for p in self.net.parameters())
        if broken:
            return ModelFileError(
                f"the network holds {broken} non-finite weight(s) (NaN or inf), so every forecast is NaN; the "
                "model file is damaged or its training diverged: retrain it or restore a good copy"
            )
        i = int(np.flatnonzero(~np.isfinite(out).reshape(len(out), -1).all(1))[0])
        largest = float(np.abs(series[i][-self.config.input_width :]).max())
        return DataError(
            f"the forecast of series {i} overflows (not finite): its history reaches |x| = {largest:.3g}, "
            "far outside the values the model was fitted on",
            hint="check the history's units and values",
        )

    def evaluate_arrays(self, series: Sequence[np.ndarray], *, start: int | Sequence[int] = 0,
                        ids: Sequence[str] | None = None) -> dict[str, float]:  # fmt: skip
        """All rolling windows whose first label is at or after step ``start`` (one for all series, or one per
        series, as a time stamp falls on another row in each): ``mse``, ``mae``, ``rmse`` on the
        standardised scale (each series over its training mean and std: the ETT papers' convention) and
        ``data_mse``, ``data_mae``, ``data_rmse`` in the data's own units; ``ids`` as for :meth:`predict_arrays`."""
        rows = self.scaler_rows(len(series), ids)
        parts = self._window_parts(series, start=start, rows=rows)
        if not any(len(p[0]) for p in parts):
            last = max(len(s) for s in series) - self.config.horizon
            firsts = sorted({int(start)} if isinstance(start, int | np.integer) else set(map(int, start)))
            where = f"step {firsts[0]}" if len(firsts) == 1 else f"steps {firsts} (one per series)"
            raise DataError(f"no window has its first label at or after {where}: the last window's first label "
                            f"is at step {last} (0-based data row)", hint="choose an earlier --start")  # fmt: skip
        x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        scores = self.evaluate_windows(x, y)
        pred = np.split(self.predict_windows(x), np.cumsum([len(p[0]) for p in parts])[:-1])
        targets = self.config.targets
        truth = np.concatenate([self.scaler.inverse(k, p[1], targets) for k, p in zip(rows, parts, strict=True)])
        guess = np.concatenate([self.scaler.inverse(k, q, targets) for k, q in zip(rows, pred, strict=True)])
        scores = {**scores, "data_mse": mse(truth, guess), "data_mae": mae(truth, guess),
                  "data_rmse": rmse(truth, guess)}  # fmt: skip
        if self.config.quantiles:
            scores.update(self._interval_scores(x, parts, rows, truth))
        return scores

    def _interval_scores(self, x: np.ndarray, parts: list, rows: list[int], truth: np.ndarray) -> dict[str, float]:
        """A quantile forecaster's scores in the data's units: the coverage and mean width of its outermost
        interval, the pinball loss of each level and their mean, CRPS (from the quantiles)."""
        levels = self.config.quantiles
        window_rows = np.repeat(rows, [len(p[0]) for p in parts]).tolist()  # each window: its series' scaler row
        bands = self.data_units(window_rows, self.predict_quantile_windows(x))  # (N, H, K, Q)
        losses = pinball_levels(truth, bands, levels)
        out = {f"pinball_q{level:g}": v for level, v in zip(levels, losses, strict=True)}
        out |= {"pinball": float(np.mean(losses)), "crps": crps(truth, bands, levels)}
        if len(levels) > 1:
            name = f"{levels[-1] - levels[0]:.0%}".replace("%", "")
            out[f"coverage_{name}"] = coverage(truth, bands[..., 0], bands[..., -1])
            out[f"width_{name}"] = float(np.mean(bands[..., -1] - bands[..., 0]))
        return out

    def cross_validate(self, series: np.ndarray, splitter: WindowSplit) -> dict:
        """Refit on each expanding fold of one series; per-fold and mean ± std of the test errors."""
        folds = []
        for k, (train_idx, test_idx) in enumerate(splitter.split(len(series), self.spec)):
            fresh = Forecaster(self.config, self.train_config, loss=self.loss)
            fresh.scaler = Standardizer.fit([series[: train_idx[-1] + self.spec.total_size]])
            x, y = fresh._windows([series])
            n_val = max(1, len(train_idx) // 10)
            tr, va = train_idx[:-n_val], train_idx[-n_val:]
            fresh.fit_windows(x[tr], y[tr], x[va], y[va])
            folds.append({"fold": k, **fresh.evaluate_windows(x[test_idx], y[test_idx])})
        summary = {m: {"mean": float(np.mean([f[m] for f in folds])), "std": float(np.std([f[m] for f in folds]))}
                   for m in ("mse", "mae", "rmse")}  # fmt: skip
        return {"folds": folds, "summary": summary}

    # --- DataFrames: the user's columns and time stamps (NeuralForecast's unique_id / ds / y too) ---------
    def fit(self, data: Source, *, target: str | Sequence[str] | None = None, time_col: str | None = None,
            series_col: str | None = None, features: Sequence[str] = (), calendar: Sequence[str] = (),
            fill: str | None = None, val_steps: int | None = None, progress: bool = False,
            out_dir: str | Path | None = None, resume: bool = False,
            future_features: Sequence[str] = (), timezone: str | None = None) -> FitResult:  # fmt: skip
        """Fit on a DataFrame or CSV path, one series or many in long format (see :func:`fit_arrays`); the network
        takes the data's columns (targets, then features, then calendar sin/cos pairs) as its inputs.
        ``future_features``: columns known in advance (a planned promotion, a weather forecast), read over the
        horizon; :meth:`predict` then takes their values for the forecast steps in rows after the history.
        ``timezone`` (``"Europe/Paris"``): the calendar features on that zone's clock, daylight saving time included,
        for times written with UTC offsets (read on UTC otherwise).

        >>> import pandas as pd
        >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=200, freq="h"),
        ...                    "y": np.sin(np.arange(200) / 4)})
        >>> f = Forecaster(ForecastConfig(model="gru", input_width=24, horizon=3, hidden_size=8),
        ...                TrainConfig(max_epochs=1, seed=0))
        >>> _ = f.fit(df)
        >>> f.predict(df)["ds"].astype(str).tolist()  # the hours after the last row, under the data's names
        ['2024-01-09 08:00:00', '2024-01-09 09:00:00', '2024-01-09 10:00:00']
        """
        settings = data_settings(data, target=target, time_col=time_col, series_col=series_col, features=features,
                                 calendar=calendar, fill=fill, future_features=future_features,
                                 horizon=self.config.horizon, timezone=timezone)  # fmt: skip
        series = read_like(data, settings)
        shape = {"n_inputs": len(series.columns), "targets": tuple(range(len(series.targets)))}
        if (self.config.n_inputs, tuple(self.config.targets)) != tuple(shape.values()):
            self.config = dataclasses.replace(self.config, **shape)
            self.net = seeded_network(ForecastNet, self.config, self.train_config.seed)
        result = self.fit_arrays([s.values for s in series.series], val_steps=val_steps, progress=progress,
                                 out_dir=out_dir, resume=resume, ids=[s.id for s in series.series])  # fmt: skip
        self.data_settings = {**settings, "freq": series.freq, "columns": series.columns}
        return result

    def read(self, data: Source, *, future_rows: bool = False) -> SeriesData:
        """``data`` read as the data this forecaster was fitted on (same columns, fill, calendar, frequency);
        ``future_rows``: each series ends with the forecast steps' rows (their columns known in advance)."""
        if not self.data_settings:
            raise ValueError("this Forecaster was fitted on arrays: use predict_arrays, or fit(df) on a DataFrame")
        return read_like(data, self.data_settings, future_rows=future_rows)

    def predict(self, data: Source) -> pd.DataFrame:
        """The ``horizon`` steps after each series of ``data``, under the data's own column names and time stamps.
        With columns known in advance (``future_features``), each series ends with ``horizon`` rows holding them
        and empty targets."""
        series = self.read(data, future_rows=True)
        pred, bands = self.predict_with_quantiles([s.values for s in series.series], [s.id for s in series.series])
        return forecast_frame(series, pred, self.data_settings, quantiles=bands, levels=self.config.quantiles)

    def evaluate(self, data: Source, *, start: int | str | None = None) -> dict[str, float]:
        """:meth:`evaluate_arrays` on ``data``; ``start``: the first label's row (int) or time stamp (text)."""
        series = self.read(data)
        first = start_rows(series, start) if isinstance(start, str) else start if isinstance(start, int) else 0
        return self.evaluate_arrays([s.values for s in series.series], start=first, ids=[s.id for s in series.series])

    # --- files ---------------------------------------------------------------------------------
    def save(self, directory: str | Path, *, overwrite: bool = False, extra: dict | None = None) -> Path:
        """The network (config.json + model.safetensors) plus forecaster.json (scaler, loss, data settings),
        written together: weights and scaler are always those of one save."""
        if self.scaler is None:  # its forecasts would fail at every door, after the model was shipped
            raise RuntimeError("fit the forecaster before saving it")
        settings = {"loss": self.loss, "train": self.train_config.to_dict(),
                    "conformal_offsets": None if self.offsets is None else self.offsets.tolist(),
                    "scaler": None if self.scaler is None else self.scaler.to_dict(),
                    "series_ids": self.series_ids, "data": extra if extra is not None else self.data_settings,
                    "training": self.info}  # fmt: skip
        return io.save(
            self.net,
            directory,
            overwrite=overwrite,
            files={SETTINGS_FILE: settings},
            card=model_card("forecaster", self.info),
        )

    @classmethod
    def load(cls, directory: str | Path) -> Forecaster:
        tasks.expect(directory, "forecaster")
        net = io.load(directory)
        settings_path = Path(directory) / SETTINGS_FILE
        if not settings_path.is_file():
            raise ModelFileError(f"{settings_path} is missing; is {directory} a saved Forecaster?")
        settings = _read_settings(settings_path)
        try:
            f = cls(net.config, TrainConfig.from_dict(settings["train"]), loss=settings["loss"])
        except (ConfigError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{settings_path}: {exc}; save the model again") from None
        f.net = net
        f.scaler = None if settings["scaler"] is None else _scaler(settings["scaler"], settings_path)
        f.data_settings = _data_settings(settings["data"], net.config, settings_path)
        f.series_ids = _series_ids(settings.get("series_ids"), f.scaler, settings_path)  # absent before issue 22
        f.info = settings.get("training", {})
        f.offsets = _offsets(settings.get("conformal_offsets"), net.config, settings_path)
        f.conformal = f.offsets is not None
        return f


def start_rows(series: SeriesData, start: str) -> list[int]:
    """Each series' own row of time ``start`` (the series of a long file may start at other times)."""
    stamp = start_stamp(start, series.utc)
    return [int(np.searchsorted(pd.DatetimeIndex(s.times), stamp)) for s in series.series]


def start_stamp(start: str, utc: bool) -> pd.Timestamp:
    """A start time as the data's times are kept: data written with UTC offsets is kept in UTC (a start with an
    offset is converted, one without is read as UTC); data without offsets takes a start without one.

    >>> start_stamp("2024-01-02 02:00+02:00", utc=True)
    Timestamp('2024-01-02 00:00:00')
    """
    try:
        stamp = pd.Timestamp(start)
    except ValueError:
        raise ValueError(f"--start takes a time stamp like 2018-02-20 or '2018-02-20 13:00', received {start!r} "
                         "(or give --start-row N)") from None  # fmt: skip
    if stamp.tzinfo is not None:
        if not utc:
            raise ValueError(f"--start {start} carries a UTC offset, the data's times none: give it as the data "
                             "writes its times")  # fmt: skip
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _read_settings(path: Path) -> dict:
    """forecaster.json, its sections present and of their kinds; any fault names the file (it may be hand-edited)."""
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not valid JSON ({exc}); save the model again") from None
    if not isinstance(settings, dict):
        raise ModelFileError(f"{path} must hold a JSON object, not {type(settings).__name__}; save the model again")
    missing = [k for k in ("train", "loss", "scaler", "data") if k not in settings]
    if missing:
        raise ModelFileError(f"{path} lacks {missing}; save the model again")
    for key, kind in (("train", dict), ("data", dict), ("training", dict), ("loss", str)):
        if key in settings and not isinstance(settings[key], kind):
            what = "an object" if kind is dict else "a string"
            raise ModelFileError(f"{path}: {key!r} must be {what}, not {type(settings[key]).__name__}; save the "
                                 "model again")  # fmt: skip
    return settings


def apply_offsets(quantiles: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """Quantiles (..., Q) calibrated: the i-th lowest level lowered and the i-th highest raised by the i-th
    offset (pairs, H, K), the levels kept in order; ``offsets`` None: unchanged."""
    if offsets is None:
        return quantiles
    q = quantiles.copy()
    for i, off in enumerate(offsets):
        q[..., i] -= off
        q[..., -1 - i] += off
    return np.sort(q, axis=-1)


def _offsets(values, config: ForecastConfig, path: Path) -> np.ndarray | None:
    """The saved conformal offsets: finite numbers, one (horizon, targets) table per pair of levels."""
    if values is None:
        return None
    shape = (len(config.quantiles) // 2, config.horizon, len(config.targets))
    try:
        offsets = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        offsets = np.zeros(0)
    if offsets.shape != shape or not np.isfinite(offsets).all():
        raise ModelFileError(f"{path}: conformal_offsets must be finite numbers of shape {list(shape)}; was the file "
                             "edited? save the model again")  # fmt: skip
    return offsets


def _scaler(saved, path: Path) -> Standardizer:
    """The saved scaler: equal-length lists of finite means and positive standard deviations, one row per series."""
    try:
        mean, std = np.asarray(saved["mean"], dtype=np.float64), np.asarray(saved["std"], dtype=np.float64)
    except (TypeError, KeyError, ValueError):
        mean = std = None
    if (
        mean is None
        or mean.ndim != 2
        or mean.shape != std.shape
        or not np.isfinite(mean).all()
        or not (np.isfinite(std).all() and (std > 0).all())
    ):
        raise ModelFileError(f"{path}: scaler must hold 'mean' and 'std' as equal-shaped lists of numbers, one row per "
                             "series, every std > 0; save the model again")  # fmt: skip
    return Standardizer.from_dict(saved)


def _data_settings(saved, config: ForecastConfig, path: Path) -> dict:
    """The saved data settings; columns read ahead (future_features) must be read the model's horizon ahead."""
    if not isinstance(saved, dict):
        raise ModelFileError(f"{path}: 'data' must be an object of data settings; save the model again")
    if saved.get("future_features") and saved.get("future_horizon") != config.horizon:
        raise ModelFileError(f"{path}: future_horizon is {saved.get('future_horizon')!r}, the model forecasts "
                             f"{config.horizon} steps; save the model again")  # fmt: skip
    return saved


def _series_ids(ids, scaler: Standardizer | None, path: Path) -> list[str] | None:
    """The saved series ids: one distinct text per scaler row; None in a model saved before they were."""
    if ids is None:
        return None
    count = None if scaler is None else len(scaler.mean)
    if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids) == count):
        raise ModelFileError(f"{path}: series_ids must list {count} distinct series names, one per scaler row; "
                             "save the model again")  # fmt: skip
    return ids
