"""Time-series cross-validation over windows: expanding folds like scikit-learn's TimeSeriesSplit, window-aware.

Folds are blocks of ``test_size`` time steps at the end of the series. A window belongs to
a fold's test set when all its labels fall inside the block; it belongs to the training set
when its last label comes at least ``gap`` steps before the block starts, so no training
window ever sees a test label (its inputs may, as any forecast's history does).

>>> spec = WindowSpec(input_width=3, label_width=1, shift=1)  # windows of 4 steps
>>> for train, test in WindowSplit(n_splits=2, test_size=2).split(12, spec):
...     print(train, test)
[0 1 2 3 4] [5 6]
[0 1 2 3 4 5 6] [7 8]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from rnnlab.data.windows import WindowSpec


@dataclasses.dataclass(frozen=True)
class WindowSplit:
    """``n_splits`` expanding folds of ``test_size`` steps (default: as scikit-learn, length // (n_splits + 1))."""

    n_splits: int = 5
    test_size: int | None = None
    gap: int = 0

    def __post_init__(self) -> None:
        if self.n_splits < 1:
            raise ValueError(f"n_splits must be >= 1, received {self.n_splits}")
        if self.gap < 0:
            raise ValueError(f"gap must be >= 0, received {self.gap}")
        if self.test_size is not None and self.test_size < 1:  # 0 was read as "the default", -3 got backwards advice
            raise ValueError(f"test_size (--test-size) is a number of steps >= 1, received {self.test_size}")

    def folds(self, length: int) -> list[tuple[int, int]]:
        """The [start, end) time steps of each test block."""
        size = self.test_size or length // (self.n_splits + 1)
        first = length - self.n_splits * size
        if size < 1 or first < 1:
            raise ValueError(f"{self.n_splits} folds of {size} steps do not fit in a series of {length} steps: use "
                             "fewer splits (--splits) or a smaller test_size (--test-size)")  # fmt: skip
        return [(first + k * size, first + (k + 1) * size) for k in range(self.n_splits)]

    def split(self, length: int, spec: WindowSpec) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train window indices, test window indices); window i covers steps [i, i + total_size)."""
        n = spec.count(length)
        starts = np.arange(n)
        last_label = starts + spec.total_size - 1
        first_label = starts + spec.total_size - spec.label_width
        for begin, end in self.folds(length):
            train = starts[last_label < begin - self.gap]
            test = starts[(first_label >= begin) & (last_label < end)]
            if len(train) == 0 or len(test) == 0:
                before = f"{begin - self.gap} steps come before it"
                if begin <= self.gap:  # not "-16 steps come before it"
                    before = f"the gap (--gap {self.gap}) reaches back past the series' start, {begin} steps before it"
                fix = (
                    f"{before}: use fewer splits (--splits) or a shorter window (--input-width, --horizon)"
                    + (", or a smaller --gap" if self.gap else "")
                    if len(train) == 0
                    else f"a fold of {end - begin} steps holds no {spec.label_width}-step "
                    f"forecast: give test_size (--test-size) >= {spec.label_width} or fewer splits (--splits)"
                )
                raise ValueError(
                    f"the fold [{begin}, {end}) has no {'training' if len(train) == 0 else 'test'} "
                    f"window: a window spans {spec.total_size} steps (input width + horizon); {fix}"
                )
            yield train, test
