"""Classification metrics: accuracy, per-class precision / recall / F1, macro-F1 and the confusion matrix.

>>> r = classification_report(["a", "b", "b", "a"], ["a", "b", "a", "a"], labels=["a", "b"])
>>> r["accuracy"], r["confusion_matrix"]
(0.75, [[2, 0], [1, 1]])
>>> round(r["macro_f1"], 4)
0.7333
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """(K, K) counts; rows are true classes, columns predicted ones (scikit-learn's layout)."""
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return out


def classification_report(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class P/R/F1/support and the confusion matrix over ``labels``.

    A class never predicted has precision 0 (scikit-learn's ``zero_division=0``).
    """
    index = {label: i for i, label in enumerate(labels)}
    t = [index[y] for y in y_true]
    p = [index[y] for y in y_pred]
    cm = confusion_matrix(t, p, len(labels))
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(0), cm.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    per_class = {
        str(label): {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(actual[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "n": len(t),
        "accuracy": float(tp.sum() / max(1, len(t))),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "labels": [str(label) for label in labels],
        "confusion_matrix": cm.tolist(),
    }
