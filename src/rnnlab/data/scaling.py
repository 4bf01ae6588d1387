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
        means, stds = [], []
        for part in train_parts:
            std = part.std(axis=0)
            means.append(part.mean(axis=0).astype(float).tolist())
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
