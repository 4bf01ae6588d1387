"""Standardisation fitted on the training part only, per series and column, inverted on output; JSON round-trip.

>>> s = Standardizer.fit([np.array([[1.0], [3.0]])])
>>> s.transform(0, np.array([[3.0]])).tolist(), s.inverse(0, np.array([[1.0]])).tolist()
([[1.0]], [[3.0]])
>>> Standardizer.from_dict(s.to_dict()).mean
[[2.0]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np


@dataclasses.dataclass
class Standardizer:
    """z = (x − mean) / std with one (mean, std) per series and column."""

    mean: list[list[float]]
    std: list[list[float]]

    @classmethod
    def fit(cls, train_parts: Sequence[np.ndarray]) -> Standardizer:
        """One (mean, std) per series and column of ``train_parts`` (T_i, C); every value must be finite.

        >>> Standardizer.fit([np.array([[1.0], [np.inf]])])
        Traceback (most recent call last):
        ...
        ValueError: cannot standardise series 0: its training values hold inf at step 1, column 0; ...
        """
        means, stds = [], []
        for k, part in enumerate(train_parts):
            part = np.asarray(part, dtype=np.float64)  # float32 sums of squares overflow past ~1e19
            _check_finite(part, f"series {k}: its training values")
            with np.errstate(over="ignore", invalid="ignore"):
                mean, std = part.mean(axis=0), part.std(axis=0)
            if not (np.isfinite(mean).all() and np.isfinite(std).all()):
                raise ValueError(f"cannot standardise series {k}: its values are too large (largest |x| = "
                                 f"{np.abs(part).max():.3g}); rescale the data (e.g. divide by 1e6)")  # fmt: skip
            means.append(mean.astype(float).tolist())
            stds.append(np.where(std > 1e-8, std, 1.0).astype(float).tolist())  # constant columns stay as they are
        return cls(means, stds)

    def transform(self, i: int, values: np.ndarray) -> np.ndarray:
        return ((values - np.asarray(self.mean[i])) / np.asarray(self.std[i])).astype(np.float32)

    def inverse(self, i: int, values: np.ndarray, columns: Sequence[int] | None = None) -> np.ndarray:
        mean, std = np.asarray(self.mean[i]), np.asarray(self.std[i])
        if columns is not None:
            mean, std = mean[list(columns)], std[list(columns)]
        return values * std + mean

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, data: dict) -> Standardizer:
        return cls(data["mean"], data["std"])


def _check_finite(values: np.ndarray, what: str) -> None:
    """A ValueError naming the first NaN or ±inf of ``values`` (T, C) by step and column."""
    values = values.reshape(len(values), -1)
    bad = ~np.isfinite(values)
    if bad.any():
        step, column = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"cannot standardise {what} hold {values[step, column]} at step {step}, column {column}; "
            "every value must be finite (fill missing values, remove infinite ones)"
        )
