"""Windows over a series with the course's names input_width, label_width, shift (TensorFlow's WindowGenerator).

A window holds ``input_width + shift`` steps; the inputs are its first ``input_width``
steps and the labels its last ``label_width`` steps. Windows are strided views made in one
call, never a Python loop over positions.

>>> spec = WindowSpec(input_width=6, label_width=1, shift=1)
>>> print(spec)
Total window size: 7
Input indices: [0 1 2 3 4 5]
Label indices: [6]
>>> values = np.arange(10, dtype=np.float32)[:, None]  # (T, C)
>>> x, y = make_windows(values, spec, inputs=[0], labels=[0])
>>> x.shape, y.shape, y[:, 0, 0].tolist()
((4, 6, 1), (4, 1, 1), [6.0, 7.0, 8.0, 9.0])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rnnlab.config import Config
from rnnlab.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class WindowSpec(Config):
    """``input_width`` steps in, ``label_width`` steps out, the labels ending ``shift`` steps after the inputs."""

    kind = "window"
    input_width: int
    label_width: int
    shift: int

    def __post_init__(self) -> None:
        for name in ("input_width", "label_width", "shift"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, received {value!r}")
        if self.label_width > self.total_size:
            raise ConfigError(f"label_width {self.label_width} exceeds the window ({self.total_size} steps)")

    @classmethod
    def forecast(cls, input_width: int, horizon: int) -> WindowSpec:
        """The usual forecasting window: ``horizon`` labels right after the inputs."""
        return cls(input_width, horizon, horizon)

    @property
    def total_size(self) -> int:
        return self.input_width + self.shift

    @property
    def input_indices(self) -> np.ndarray:
        return np.arange(self.input_width)

    @property
    def label_indices(self) -> np.ndarray:
        return np.arange(self.total_size - self.label_width, self.total_size)

    def __str__(self) -> str:
        return (f"Total window size: {self.total_size}\nInput indices: {self.input_indices}\n"
                f"Label indices: {self.label_indices}")  # fmt: skip

    def count(self, length: int) -> int:
        """Windows in a series of ``length`` steps."""
        return max(0, length - self.total_size + 1)


def make_windows(
    values: np.ndarray, spec: WindowSpec, *, inputs: Sequence[int], labels: Sequence[int], start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(T, C) -> inputs (N, input_width, len(inputs)) and labels (N, label_width, len(labels)).

    ``start`` drops the windows whose first label comes before step ``start`` (rolling
    evaluation from a point on). The arrays are copies (contiguous, ready for torch).
    """
    if values.ndim != 2:
        raise ValueError(f"values must be (time, columns), received shape {values.shape}")
    if spec.count(len(values)) == 0:
        raise ValueError(
            f"a series of {len(values)} steps is shorter than one window ({spec.total_size} = input_width "
            f"{spec.input_width} + shift {spec.shift}); use a shorter input_width or horizon"
        )
    view = np.lib.stride_tricks.sliding_window_view(values, spec.total_size, axis=0)  # (N, C, W)
    first_label = spec.total_size - spec.label_width
    n_skip = max(0, start - first_label)
    view = view[n_skip:]
    x = view[:, list(inputs), : spec.input_width].transpose(0, 2, 1)
    y = view[:, list(labels), first_label:].transpose(0, 2, 1)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def calendar_features(times: np.ndarray, kinds: Sequence[str] = ("hour", "dayofweek")) -> np.ndarray:
    """Known-future covariates as sin/cos pairs: hour of day, day of week, month of year. (T,) -> (T, 2·k)."""
    stamps = pd.DatetimeIndex(times)
    periods = {"hour": ("hour", 24), "dayofweek": ("day_of_week", 7), "month": ("month", 12)}
    unknown = [k for k in kinds if k not in periods]
    if unknown:
        raise ValueError(f"calendar features are {list(periods)}, received {unknown}")
    cols = []
    for k in kinds:
        attribute, period = periods[k]
        value = getattr(stamps, attribute) - (1 if k == "month" else 0)
        angle = 2 * np.pi * np.asarray(value, dtype=np.float64) / period
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, axis=1).astype(np.float32)
