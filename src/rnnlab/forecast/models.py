"""Forecasting networks: Dense on the flattened window, and SimpleRNN / LSTM / GRU with three multi-step strategies.

- ``single_shot``: the last state → Dense → horizon × targets at once (return_sequences=False);
- ``autoregressive``: warm up on the window with return_state=True, then feed each prediction
  back as the next input (the inputs must be the targets);
- ``per_step``: return_sequences=True, every step of the window is trained to forecast the
  ``horizon`` values that follow it; the forecast is read at the last step.
``patch`` reads the window in segments (SegRNN, Lin et al. 2023): the recurrent layer takes
input_width / patch steps of patch × n_inputs values, e.g. 14 days of 24 hours for a 336-hour
window: 24× fewer sequential steps, and each step sees a whole season.
``revin`` normalises each window by its own mean and std and undoes it on the output
(reversible instance normalisation, Kim et al. 2022; without the learned affine part).

>>> import torch
>>> m = ForecastNet(ForecastConfig(model="lstm", input_width=24, horizon=6, n_inputs=3, targets=(0,)))
>>> m(torch.randn(2, 24, 3)).shape
torch.Size([2, 6, 1])
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnlab.errors import ConfigError
from rnnlab.forecast.config import MODELS, PARAMETERS, STRATEGIES, ForecastConfig
from rnnlab.io import register_model
from rnnlab.nn import GRU, LSTM, Dense, SimpleRNN
from rnnlab.nn.ensemble import build

__all__ = ["MODELS", "STRATEGIES", "ForecastConfig", "ForecastNet", "per_step_labels"]


class ForecastOutputs(NamedTuple):
    """``forecast`` (B, horizon, K); ``every_step`` (B, T, horizon, K) for strategy per_step (each window step's
    forecast, trained on); ``window_scale`` (B, 1, K) with revin (each window's std of the targets, detached);
    ``quantiles`` (B, horizon, K, Q) with ``config.quantiles`` (non-decreasing along Q; ``forecast`` is the
    median among them); ``sigma`` (B, horizon, K), the standard deviation of a normal forecast (``forecast`` is
    its mean, ``quantiles`` its quantiles), or the scale of a Student-t one with ``df`` its degrees of freedom."""

    forecast: Tensor
    every_step: Tensor | None = None
    window_scale: Tensor | None = None
    quantiles: Tensor | None = None
    sigma: Tensor | None = None
    df: Tensor | None = None


@register_model
class ForecastNet(nn.Module):
    """(B, input_width, n_inputs) -> (B, horizon, len(targets)).

    ``from_config`` with ``config.members > 1`` builds an :class:`~rnnlab.nn.ensemble.Ensemble` of single
    networks (each trained on its own by the :class:`~rnnlab.forecast.forecaster.Forecaster`), their mean forecast.
    """

    config_class = ForecastConfig
    ensemble_combine = "mean"  # an ensemble's forecast: the mean of its members'

    def __init__(self, config: ForecastConfig) -> None:
        super().__init__()
        self.config = c = config
        if c.members > 1:
            raise ConfigError("an ensemble is an Ensemble of single networks: ForecastNet.from_config builds it")
        K, H = len(c.targets), c.hidden_size
        per_value = PARAMETERS.get(c.distribution) or max(1, len(c.quantiles))  # (mean, scale[, df]) or the levels
        out_per_step = K if c.strategy == "autoregressive" else c.horizon * K * per_value
        if c.model == "dense":
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(c.input_width * c.n_inputs, H), nn.ReLU(),
                                      nn.Dropout(c.dropout))  # fmt: skip
            width = H
        else:
            cls = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}[c.model]
            self.body = cls(c.n_inputs * max(c.patch, 1), H, num_layers=c.num_layers, bidirectional=c.bidirectional,
                            dropout=c.dropout, return_sequences=c.strategy == "per_step",
                            return_state=c.strategy == "autoregressive")  # fmt: skip
            width = self.body.output_size
        self.head = Dense(width, out_per_step)
        # Lai et al. 2018 (LSTNet): a linear map of each target's last values, shared by the targets, added to the
        # network's forecast, so that the scale-sensitive linear part and the recurrent part are learnt together
        self.highway = nn.Linear(c.highway, c.horizon) if c.highway else None
        if c.distribution != "none":  # the standard normal's quantiles at the levels: q = mean + std * z
            levels = torch.tensor(c.quantiles, dtype=torch.float64)
            self.register_buffer("z", (2**0.5 * torch.erfinv(2 * levels - 1)).float(), persistent=False)

    @classmethod
    def from_config(cls, config: ForecastConfig) -> nn.Module:
        """The network, or for ``members > 1`` the :class:`~rnnlab.nn.ensemble.Ensemble` of them."""
        return build(cls, config, cls.ensemble_combine)

    def forward(self, x: Tensor) -> Tensor:
        """(B, input_width, n_inputs) -> the forecast (B, horizon, K)."""
        return self.outputs(x).forecast

    def outputs(self, x: Tensor) -> ForecastOutputs:
        """The forecast and what a loss may need besides (returned, never left on the module)."""
        c = self.config
        scale = None
        if c.revin:
            mean = x.mean(1, keepdim=True).detach()
            std = (x.var(1, keepdim=True, unbiased=False) + 1e-5).sqrt().detach()
            x = (x - mean) / std
            scale = std[:, :, list(c.targets)]
        if c.strategy == "autoregressive":
            y, every = self._autoregressive(x), None
        else:
            y, every = self._direct(x)
        if c.distribution != "none":  # (B, H, K, 2 or 3): the mean, the scale (softplus, > 0)[, the df]
            mu, sigma = y[..., 0], nn.functional.softplus(y[..., 1]) + 1e-3
            if c.revin:
                targets = list(c.targets)
                mu, sigma = mu * std[:, :, targets] + mean[:, :, targets], sigma * std[:, :, targets]
            if c.distribution == "normal":
                return ForecastOutputs(mu, None, scale, mu[..., None] + sigma[..., None] * self.z, sigma)
            df = 3.0 + nn.functional.softplus(y[..., 2])
            return ForecastOutputs(
                mu, None, scale, mu[..., None] + sigma[..., None] * student_t_z(self.z, df), sigma, df
            )
        if c.revin:
            targets = list(c.targets)
            if c.quantiles:  # (B, H, K, Q): the same scale and shift for every level
                y = y * std[:, :, targets, None] + mean[:, :, targets, None]
            else:
                y = y * std[:, :, targets] + mean[:, :, targets]
            if every is not None:
                every = every * std[:, :, None, targets] + mean[:, :, None, targets]
        if c.quantiles:
            return ForecastOutputs(y[..., c.quantiles.index(0.5)], every, scale, y)
        return ForecastOutputs(y, every, scale)

    def _direct(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        c = self.config
        z = self.body(self._segments(x) if c.patch else x)  # (B, H) or (B, T, H) for per_step
        out, every = self.head(z), None
        if c.strategy == "per_step":
            every = out.view(x.shape[0], x.shape[1], c.horizon, len(c.targets))  # (B, T, horizon, K): the loss's
            out = out[:, -1]
        if c.distribution != "none":
            out = out.view(x.shape[0], c.horizon, len(c.targets), PARAMETERS[c.distribution])
        elif c.quantiles:
            out = _non_crossing(out.view(x.shape[0], c.horizon, len(c.targets), len(c.quantiles)),
                                c.quantiles.index(0.5))  # fmt: skip
        else:
            out = out.view(x.shape[0], c.horizon, len(c.targets))
        if self.highway is not None:  # (B, hw, K) -> (B, K, hw) -> (B, K, H) -> (B, H, K)
            shift = self.highway(x[:, -c.highway :, list(c.targets)].transpose(1, 2)).transpose(1, 2)
            if c.distribution != "none":  # moves the mean only
                out = torch.cat([(out[..., 0] + shift)[..., None], out[..., 1:]], dim=-1)
            else:
                out = out + (shift[..., None] if c.quantiles else shift)
        return out, every

    def _segments(self, x: Tensor) -> Tensor:
        """(B, W, F) -> (B, W / patch, patch · F): segment s holds steps s·patch .. (s+1)·patch - 1, time-major."""
        return x.reshape(x.shape[0], self.config.input_width // self.config.patch, self.config.patch * x.shape[2])

    def _autoregressive(self, x: Tensor) -> Tensor:
        _, *state = self.body(x)  # warm up: read the window, keep the state
        last = self.head(state[0][-1])  # (B, K): the first forecast, from the top layer's h
        outs = [last]
        for _ in range(self.config.horizon - 1):
            _, *state = self.body(last[:, None, :], initial_state=tuple(state) if len(state) > 1 else state[0])
            last = self.head(state[0][-1])
            outs.append(last)
        return torch.stack(outs, 1)


def forecast_outputs(net: nn.Module, x: Tensor) -> ForecastOutputs:
    """``net.outputs(x)``, also for a deep ensemble of forecasting networks: the mean of the members' forecasts
    and of their quantiles level by level (quantile averaging, Vincentization: the mean of non-decreasing levels
    never crosses)."""
    members = getattr(net, "members", None)
    if not isinstance(members, nn.ModuleList):
        return net.outputs(x)
    outs = [m.outputs(x) for m in members]
    quantiles = None if outs[0].quantiles is None else torch.stack([o.quantiles for o in outs]).mean(0)
    return ForecastOutputs(torch.stack([o.forecast for o in outs]).mean(0), None, None, quantiles)


def student_t_z(z: Tensor, df: Tensor) -> Tensor:
    """The Student-t quantiles at the standard normal's quantiles ``z`` (Q,) for degrees of freedom ``df`` (...,):
    (..., Q), by the Cornish-Fisher expansion in 1/df to the fourth order (Abramowitz & Stegun 26.7.5; error below
    0.005 for df >= 3 at the 2.5 % and 97.5 % levels). Plain arithmetic, so it exports to ONNX.

    >>> round(student_t_z(torch.tensor([1.959964]), torch.tensor(3.0)).item(), 2)  # the table's 3.182
    3.18
    >>> round(student_t_z(torch.tensor([1.959964]), torch.tensor(1000.0)).item(), 3)  # the normal's
    1.962
    """
    v = df[..., None]
    z2 = z * z
    g1 = z * (z2 + 1) / 4
    g2 = z * ((5 * z2 + 16) * z2 + 3) / 96
    g3 = z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / 384
    g4 = z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) / 92160
    return z + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v


def _non_crossing(raw: Tensor, median: int) -> Tensor:
    """(..., Q) head outputs -> quantiles that never cross: the median's output as is, each level above it the one
    below plus a softplus (> 0) of its output, each level below the one above minus one.

    >>> q = _non_crossing(torch.tensor([[3.0, -1.0, 0.0, -5.0]]), median=1)
    >>> bool((q.diff(dim=-1) > 0).all()), q[0, 1].item()
    (True, -1.0)
    """
    centre = raw[..., median : median + 1]
    up = torch.cumsum(nn.functional.softplus(raw[..., median + 1 :]), dim=-1)
    down = torch.cumsum(nn.functional.softplus(raw[..., :median].flip(-1)), dim=-1).flip(-1)
    return torch.cat([centre - down, centre, centre + up], dim=-1)


def per_step_labels(x: Tensor, y: Tensor, targets: tuple[int, ...]) -> Tensor:
    """Labels of every window step for per_step training: the ``horizon`` values after step t, (B, T, H, K)."""
    seq = torch.cat([x[..., list(targets)], y], dim=1)  # (B, T + H, K)
    horizon = y.shape[1]
    return seq.unfold(1, horizon, 1)[:, 1 : x.shape[1] + 1].permute(0, 1, 3, 2)
