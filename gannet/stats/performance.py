"""Model performance from predictions and the labels that arrived, in numpy.

``classification``: accuracy, precision, recall and F1 (binary: of the positive class, the
larger label; more classes: macro averages), ROC AUC and log loss when class
probabilities are given (binary: of the positive class). ``regression``: RMSE, MAE.
``task_of`` tells which from the labels (numbers that are not all whole: regression).
"""

from __future__ import annotations

from typing import Any

__all__ = ["classification", "regression", "task_of"]

EPS = 1e-15


def task_of(labels: Any) -> str:
    import numpy as np

    values = np.asarray(labels)
    if values.dtype.kind == "f" and len(values) and not np.all(np.mod(values, 1) == 0):
        return "regression"
    return "classification"


def regression(labels: Any, predictions: Any) -> dict[str, float]:
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(predictions, dtype=float)
    error = p - y
    return {"rmse": float(np.sqrt(np.mean(error ** 2))), "mae": float(np.mean(np.abs(error)))}


def classification(labels: Any, predictions: Any, probabilities: Any = None
                   ) -> dict[str, float]:
    """The metrics above; ``probabilities``: (rows x classes), columns in sorted class order."""
    import numpy as np

    y, p = _same_kind(np.asarray(labels), np.asarray(predictions))
    classes = np.unique(np.concatenate([y, p]))
    found: dict[str, float] = {"accuracy": float(np.mean(y == p))}
    per_class = [_precision_recall(y, p, c) for c in classes]
    chosen = per_class[-1:] if len(classes) == 2 else per_class
    for i, name in enumerate(("precision", "recall", "f1")):
        found[name] = float(np.mean([metrics[i] for metrics in chosen]))
    if probabilities is not None:
        proba = np.asarray(probabilities, dtype=float)
        found.update(_probabilistic(y, proba))
    return found


def _same_kind(y: Any, p: Any) -> tuple[Any, Any]:
    """Labels and predictions comparable: numbers as numbers, else both as text."""

    if y.dtype.kind in "biuf" and p.dtype.kind in "biuf":
        return y.astype(float), p.astype(float)
    return y.astype(str), p.astype(str)


def _precision_recall(y: Any, p: Any, positive: Any) -> tuple[float, float, float]:
    import numpy as np

    tp = float(np.sum((p == positive) & (y == positive)))
    predicted, actual = float(np.sum(p == positive)), float(np.sum(y == positive))
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _probabilistic(y: Any, proba: Any) -> dict[str, float]:
    """ROC AUC and log loss, labels being the class indexes 0..k-1 of the columns."""
    import numpy as np

    k = proba.shape[1] if proba.ndim == 2 else 1
    try:
        index = y.astype(int)
    except ValueError:
        return {}
    if np.any(index != y) or np.any(index < 0) or np.any(index >= max(k, 2)):
        return {}
    found = {}
    clipped = np.clip(proba if proba.ndim == 2 else np.column_stack([1 - proba, proba]),
                      EPS, 1 - EPS)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    found["log_loss"] = float(-np.mean(np.log(clipped[np.arange(len(index)), index])))
    if clipped.shape[1] == 2 and 0 < index.sum() < len(index):
        found["roc_auc"] = _roc_auc(index, clipped[:, 1])
    return found


def _roc_auc(positive: Any, score: Any) -> float:
    """The Mann-Whitney form of the area under the ROC curve (ties count half)."""
    from scipy import stats

    ranks = stats.rankdata(score)
    n_pos = float(positive.sum())
    n_neg = len(positive) - n_pos
    return float((ranks[positive == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
