"""Standard evaluation protocols: ETT's chronological 12/4/4-month split (Zhou et al. 2021, Informer).

Train rows 0–8,639, validation 8,640–11,519, test 11,520–14,399 (rows after 14,400 unused);
validation and test windows may start with look-back context from the previous segment, so
every label of a segment is forecast exactly once per horizon step. Each variable is z-scored
with the training segment's mean and std; errors are reported on that normalised scale.

>>> borders = ett_borders(input_width=96)
>>> borders["test"]
(11424, 14400)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from rnnlab.data.scaling import Standardizer
from rnnlab.data.windows import WindowSpec, make_windows

ETT_TRAIN, ETT_VAL, ETT_TEST = 12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24


def ett_borders(input_width: int) -> dict[str, tuple[int, int]]:
    """Row ranges [start, end) of each segment, look-back context included."""
    return {
        "train": (0, ETT_TRAIN),
        "val": (ETT_TRAIN - input_width, ETT_TRAIN + ETT_VAL),
        "test": (ETT_TRAIN + ETT_VAL - input_width, ETT_TRAIN + ETT_VAL + ETT_TEST),
    }


@dataclasses.dataclass
class SplitWindows:
    x: np.ndarray  # (N, input_width, inputs)
    y: np.ndarray  # (N, horizon, targets)


def ett_windows(
    values: np.ndarray, *, input_width: int, horizon: int, inputs: Sequence[int], targets: Sequence[int]
) -> tuple[dict[str, SplitWindows], Standardizer]:
    """z-scored windows of the three segments, scaled with the training segment's statistics."""
    scaler = Standardizer.fit([values[:ETT_TRAIN]])
    scaled = scaler.transform(0, values)
    spec = WindowSpec.forecast(input_width, horizon)
    out = {}
    for name, (start, end) in ett_borders(input_width).items():
        x, y = make_windows(scaled[start:end], spec, inputs=inputs, labels=targets)
        out[name] = SplitWindows(x, y)
    return out, scaler
