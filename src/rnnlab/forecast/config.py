"""The forecasting network's config and its choices, without PyTorch: the CLI reads them for its options and
``rnnlab --help`` stays fast (the networks are in :mod:`rnnlab.forecast.models`)."""

from __future__ import annotations

import dataclasses

from rnnlab.config import Config
from rnnlab.errors import ConfigError

MODELS: tuple[str, ...] = ("dense", "rnn", "lstm", "gru")
STRATEGIES: tuple[str, ...] = ("single_shot", "autoregressive", "per_step")


@dataclasses.dataclass(frozen=True)
class ForecastConfig(Config):
    """Architecture of a forecasting network; ``targets`` index the input columns that are forecast."""

    kind = "ForecastNet"
    model: str = "lstm"
    input_width: int = 96
    horizon: int = 24
    n_inputs: int = 1
    targets: tuple[int, ...] = (0,)
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    strategy: str = "single_shot"
    revin: bool = False
    highway: int = 0  # LSTNet's linear autoregressive part: the last `highway` values of each target, 0 = off
    patch: int = 0  # segment length: the recurrent layer reads input_width / patch segments; 0 = one step per time step
    members: int = 1  # a deep ensemble: this many networks (member k: the single one of seed + k), forecasts averaged

    def __post_init__(self) -> None:
        if not isinstance(self.members, int) or self.members < 1:
            raise ConfigError(f"members must be a positive integer, received {self.members!r}")
        if self.model not in MODELS:
            raise ConfigError(f"model must be one of {list(MODELS)}, received {self.model!r}")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {list(STRATEGIES)}, received {self.strategy!r}")
        if not self.targets or min(self.targets) < 0 or max(self.targets) >= self.n_inputs:
            raise ConfigError(f"targets must index the {self.n_inputs} input columns, received {self.targets}")
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
