"""The figures autolog keeps beside a model: a confusion matrix and feature importances.

Drawn on a bare ``matplotlib.figure.Figure`` (no pyplot, no GUI backend, no global state);
skipped when matplotlib is not installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

TOP_FEATURES = 20  # a readable bar chart; the full list is in the model


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[Any]) -> Any:
    """Counts of (true label, predicted label) on the training data."""
    import numpy as np
    from matplotlib.figure import Figure

    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist(), strict=True):
        if t in index and p in index:
            counts[index[t], index[p]] += 1
    size = min(2 + 0.6 * len(labels), 12)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    ticks = list(range(len(labels)))
    ax.set_xticks(ticks, [str(label) for label in labels], rotation=45)
    ax.set_yticks(ticks, [str(label) for label in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("training confusion matrix")
    if len(labels) <= 20:
        threshold = counts.max() / 2 if counts.size else 0
        for i in ticks:
            for j in ticks:
                color = "white" if counts[i, j] > threshold else "black"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=color)
    fig.tight_layout()
    return fig


def feature_importance(names: Sequence[str], values: Sequence[float]) -> Any:
    """The largest importances as horizontal bars, largest on top."""
    from matplotlib.figure import Figure

    ranked = sorted(zip(names, values, strict=True), key=lambda nv: nv[1], reverse=True)
    ranked = ranked[:TOP_FEATURES][::-1]
    fig = Figure(figsize=(7, 1.5 + 0.3 * len(ranked)))
    ax = fig.subplots()
    ax.barh([str(n) for n, _ in ranked], [float(v) for _, v in ranked])
    ax.set_xlabel("importance")
    ax.set_title("feature importance")
    fig.tight_layout()
    return fig
