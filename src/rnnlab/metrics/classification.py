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


def expected_calibration_error(probabilities: np.ndarray, labels: Sequence[int], bins: int = 15) -> float:
    """Expected calibration error (Guo et al. 2017): the predictions binned by confidence (their top probability)
    in ``bins`` equal-width bins (lo, hi]; the sum over bins of (share of predictions) × |accuracy − mean
    confidence|. 0 for a classifier whose "80 % sure" is right 80 % of the time.

    Four predictions, five bins: 0.6 right (bin (0.4, 0.6]: |1 − 0.6| × 1/4), 0.7 right and 0.8 wrong
    (bin (0.6, 0.8]: |0.5 − 0.75| × 2/4), 0.9 right (|1 − 0.9| × 1/4): 0.1 + 0.125 + 0.025.

    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> round(expected_calibration_error(p, [0, 1, 1, 1], bins=5), 6)
    0.25
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if len(p) == 0:
        return 0.0
    confidence, correct = p.max(1), (p.argmax(1) == y).astype(np.float64)
    which = np.clip(np.digitize(confidence, np.linspace(0.0, 1.0, bins + 1)[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def log_loss(logits: np.ndarray, labels: Sequence[int], temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the ``labels`` under softmax(logits / temperature).

    >>> round(log_loss(np.array([[0.0, 0.0]]), [1]), 4)  # log 2
    0.6931
    """
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    return float(-log_p[np.arange(len(z)), np.asarray(labels, dtype=np.int64)].mean())


def fit_temperature(logits: np.ndarray, labels: Sequence[int], low: float = 0.05, high: float = 20.0) -> float:
    """Temperature scaling (Guo et al. 2017): the T in [low, high] minimising the log loss of softmax(logits / T)
    on held-out data, by golden-section search over log T (the loss is unimodal in it). T > 1 softens
    over-confident probabilities; the predicted class never changes.

    Labels drawn from softmax(z) itself (calibrated logits: T near 1), then the same logits 4x too confident:

    >>> rng = np.random.default_rng(0)
    >>> z = np.stack([np.zeros(4000), rng.normal(0, 2, 4000)], 1)
    >>> y = (rng.random(4000) < 1 / (1 + np.exp(-z[:, 1]))).astype(int)
    >>> round(fit_temperature(z, y), 1), round(fit_temperature(4 * z, y), 1)
    (1.0, 4.0)
    >>> log_loss(4 * z, y, fit_temperature(4 * z, y)) < log_loss(4 * z, y)
    True
    """
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5.0) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = log_loss(logits, labels, np.exp(c)), log_loss(logits, labels, np.exp(d))
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = log_loss(logits, labels, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = log_loss(logits, labels, np.exp(d))
    return float(np.exp((a + b) / 2))
