"""The forecasting network's config, its choices and the task's training defaults, without PyTorch: the CLI
generates its options from them and ``rnnlab --help`` stays fast (the networks are in :mod:`rnnlab.forecast.models`)."""

from __future__ import annotations

import dataclasses

from rnnlab.config import Config, doc
from rnnlab.errors import ConfigError
from rnnlab.training.config import TrainConfig

MODELS: tuple[str, ...] = ("dense", "rnn", "lstm", "gru")
STRATEGIES: tuple[str, ...] = ("single_shot", "autoregressive", "per_step")
DISTRIBUTIONS: tuple[str, ...] = ("none", "normal", "student_t")
PARAMETERS = {"normal": 2, "student_t": 3}  # a parametric forecast's values per step and target
DEFAULT_LEVELS = (0.025, 0.5, 0.975)  # a distribution's levels unless --quantiles names others: a 95 % interval


@dataclasses.dataclass(frozen=True)
class ForecastConfig(Config):
    """Architecture of a forecasting network; ``targets`` index the input columns that are forecast."""

    kind = "ForecastNet"
    model: str = doc("lstm", "The network: a dense one, or a recurrent layer and a dense head.", choices=MODELS)
    input_width: int = doc(96, "Steps read by the model.")
    horizon: int = doc(24, "Steps forecast.")
    n_inputs: int = doc(1, "Input columns: the targets, then features and calendar pairs (set from the data).")
    targets: tuple[int, ...] = doc((0,), "The input columns forecast (set from the data).")
    hidden_size: int = doc(64, "Hidden units.")
    num_layers: int = doc(1, "Stacked recurrent layers.")
    bidirectional: bool = doc(False, "Read the window in both directions (strategy single_shot).")
    dropout: float = doc(0.0, "Dropout between the stacked layers and before the head.")
    strategy: str = doc(
        "single_shot",
        "How the horizon is forecast: every step at once (single_shot), one step at "
        "a time fed back (autoregressive), or from every step of the window (per_step).",
        choices=STRATEGIES,
    )
    revin: bool = doc(True, "Normalise each window by its own mean and std (RevIN).")
    highway: int = doc(0, "LSTNet's linear autoregressive part over the last N values of each target (0: off).")
    patch: int = doc(0, "Read the window in segments of N steps (e.g. 24 for hourly data; SegRNN); 0: step by step.")
    members: int = doc(
        1,
        "A deep ensemble: this many networks (member k is the single one of seed + k), "
        "forecasts averaged; one saved model.",
    )
    quantiles: tuple[float, ...] = doc(
        (),
        "Quantile levels to forecast besides the point forecast, e.g. 0.025,0.975 for a 95 % interval (trained "
        "with the pinball loss, never crossing; the median 0.5 is added and is the point forecast).",
    )
    distribution: str = doc(
        "none",
        "A parametric forecast trained on its negative log-likelihood: normal (a mean and a standard deviation per "
        "step) or student_t (a location, a scale and degrees of freedom > 3 per step: heavier tails for spiky "
        "series); its quantiles at --quantiles (default 0.025,0.975) give the intervals.",
        choices=DISTRIBUTIONS,
    )

    def __post_init__(self) -> None:
        for name in ("members", "input_width", "horizon", "n_inputs", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, received {value!r}")
        if self.members > 64:  # each member is a whole training run
            raise ConfigError(f"members (--members) must be at most 64 networks, received {self.members}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), received {self.dropout!r}")
        if self.model not in MODELS:
            raise ConfigError(f"model must be one of {list(MODELS)}, received {self.model!r}")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {list(STRATEGIES)}, received {self.strategy!r}")
        if not self.targets or min(self.targets) < 0 or max(self.targets) >= self.n_inputs:
            raise ConfigError(f"targets must index the {self.n_inputs} input columns, received {self.targets}")
        if self.model == "dense" and (self.num_layers > 1 or self.bidirectional):
            raise ConfigError("the dense model is one hidden layer over the whole window: num_layers "
                              "(--num-layers) and bidirectional (--bidirectional) are for the recurrent models "
                              "(lstm, gru, rnn)")  # fmt: skip
        if self.strategy != "single_shot" and self.model == "dense":
            raise ConfigError(f"strategy {self.strategy!r} needs a recurrent model, not 'dense'")
        if self.strategy == "autoregressive" and tuple(self.targets) != tuple(range(self.n_inputs)):
            raise ConfigError("strategy 'autoregressive' feeds forecasts back as inputs: the inputs must be the "
                              "targets (no extra feature columns)")  # fmt: skip
        if self.bidirectional and self.strategy != "single_shot":
            raise ConfigError("bidirectional layers read the whole window: use strategy 'single_shot'")
        if not 0 <= self.highway <= self.input_width:
            raise ConfigError(f"highway must be in [0, input_width={self.input_width}], received {self.highway}")
        if self.highway and self.strategy != "single_shot":
            raise ConfigError("the highway (linear autoregressive part) adds to single-shot forecasts only")
        if self.patch < 0 or (self.patch and self.input_width % self.patch):
            raise ConfigError(f"patch must divide input_width={self.input_width} (e.g. 24 for hourly data), "
                              f"received {self.patch}")  # fmt: skip
        if self.patch and (self.model == "dense" or self.strategy != "single_shot"):
            raise ConfigError("patch (segments as recurrent steps) needs a recurrent model and strategy 'single_shot'")
        if self.distribution not in DISTRIBUTIONS:
            raise ConfigError(f"distribution must be one of {list(DISTRIBUTIONS)}, received {self.distribution!r}")
        if self.distribution != "none" and not self.quantiles:
            object.__setattr__(self, "quantiles", DEFAULT_LEVELS)
        if self.quantiles:
            object.__setattr__(self, "quantiles", quantile_levels(self.quantiles))
            what = "quantiles (--quantiles)" if self.distribution == "none" else "a distribution (--distribution)"
            if self.strategy != "single_shot":
                raise ConfigError(f"{what} are forecast all at once: use strategy 'single_shot'")


def quantile_levels(levels: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """The levels sorted, each strictly between 0 and 1, with the median 0.5 (the point forecast) added.

    >>> quantile_levels((0.975, 0.025))
    (0.025, 0.5, 0.975)
    """
    values = [float(q) for q in levels if not isinstance(q, bool)]
    if len(values) != len(levels) or not all(0 < q < 1 for q in values) or len(set(values)) != len(values):
        raise ConfigError(f"quantiles (--quantiles) are distinct levels strictly between 0 and 1, e.g. "
                          f"0.025,0.975; received {list(levels)}")  # fmt: skip
    return tuple(sorted({*values, 0.5}))


# how a forecaster trains unless told otherwise: the ETT benchmark's settings (benchmarks/forecast_ett.py)
DEFAULT_TRAIN = TrainConfig(batch_size=64, patience=3)
