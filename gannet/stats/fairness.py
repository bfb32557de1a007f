"""Fairness metrics per group and the disparities between groups, vectorised.

Each sensitive attribute (and their intersection, when there are several) splits the rows
into groups; every group gets its count and metrics from one ``np.bincount`` per
quantity, so a million rows and three attributes take a fraction of a second.

Classification (a binary outcome, ``positive`` being the favourable label): selection
rate, true/false positive rate, precision, error rate and, with scores, the calibration
gap (mean score minus observed positive rate). Regression: RMSE and MAE.

Disparities follow Fairlearn's definitions (Fairlearn is the reference the tests check
against): demographic parity difference (max - min selection rate) and ratio (min / max),
equalized odds difference (the larger of the TPR and FPR differences). Groups with fewer
than ``min_group_size`` rows are reported as small and left out of the disparities (which
are also given over all groups, ``disparities_all``, for a gate that asks for them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gannet.core.errors import InvalidArgument

__all__ = ["CLASSIFICATION", "DISPARITIES", "REGRESSION", "fairness_report", "group_key"]

CLASSIFICATION, REGRESSION = "classification", "regression"
DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)
MISSING = "(missing)"


def group_key(attributes: Sequence[str]) -> str:
    """How a report names an attribute or an intersection: ``sex``, ``sex+age_band``."""
    return "+".join(attributes)


def fairness_report(frame: Any, *, y_true: Any, y_pred: Any, sensitive: Sequence[str],
                    task: str, min_group_size: int = 30, scores: Any = None,
                    ) -> dict[str, Any]:
    """Per-group metrics and disparities for each attribute of ``sensitive`` (columns of
    ``frame``) and for their intersection. ``y_true``/``y_pred`` are 0/1 for
    classification (1: the favourable outcome), numbers for regression."""
    if not sensitive:
        raise InvalidArgument("no sensitive attribute given",
                              "name one or more with --sensitive COLUMN")
    missing = [s for s in sensitive if s not in frame.columns]
    if missing:
        raise InvalidArgument(
            f"sensitive attribute(s) {', '.join(map(repr, missing))} not in the data",
            f"the data has: {', '.join(map(str, frame.columns))}")
    truth, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    codes = {s: _codes(frame[s]) for s in sensitive}
    sets: list[tuple[str, ...]] = [(s,) for s in sensitive]
    if len(sensitive) > 1:
        sets.append(tuple(sensitive))
    score = None if scores is None else np.asarray(scores, dtype=float)
    attributes = {
        group_key(names): _attribute(names, codes, truth, pred, task, min_group_size, score)
        for names in sets
    }
    overall = _metrics(_sums(np.zeros(len(truth), dtype=np.int64), 1, truth, pred, score),
                       task)[0]
    overall["count"] = len(truth)
    return {"task": task, "min_group_size": min_group_size, "rows": len(truth),
            "sensitive": list(sensitive), "overall": overall, "attributes": attributes}


def _codes(column: Any) -> tuple[np.ndarray, list[str]]:
    import pandas as pd

    codes, uniques = pd.factorize(column, use_na_sentinel=False, sort=True)
    labels = [MISSING if _is_missing(u) else str(u) for u in uniques]
    return codes.astype(np.int64), labels


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _attribute(names: tuple[str, ...], codes: dict[str, tuple[np.ndarray, list[str]]],
               truth: np.ndarray, pred: np.ndarray, task: str, min_size: int,
               score: np.ndarray | None) -> dict[str, Any]:
    combined = np.zeros(len(truth), dtype=np.int64)
    sizes = [len(codes[n][1]) for n in names]
    for name, size in zip(names, sizes, strict=True):
        combined = combined * size + codes[name][0]
    width = int(np.prod(sizes))
    metrics = _metrics(_sums(combined, width, truth, pred, score), task)
    groups = []
    for index, values in enumerate(metrics):
        if values["count"] == 0:
            continue  # a combination that never occurs
        labels, rest = [], index
        for name, size in reversed(list(zip(names, sizes, strict=True))):
            labels.append(codes[name][1][rest % size])
            rest //= size
        values["group"] = " & ".join(reversed(labels))
        values["small"] = values["count"] < min_size
        groups.append(values)
    large = [g for g in groups if not g["small"]]
    return {"groups": groups, "small_groups": [g["group"] for g in groups if g["small"]],
            "disparities": _disparities(large, task),
            "disparities_all": _disparities(groups, task)}


def _sums(codes: np.ndarray, width: int, truth: np.ndarray, pred: np.ndarray,
          score: np.ndarray | None) -> dict[str, np.ndarray]:
    def total(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=width).astype(float)

    sums = {"count": total()}
    if score is not None:
        sums["score"] = total(score)
    sums["truth"], sums["pred"] = total(truth), total(pred)
    sums["tp"] = total(truth * pred)
    error = pred - truth
    sums["sq"], sums["abs"] = total(error * error), total(np.abs(error))
    return sums


def _metrics(s: dict[str, np.ndarray], task: str) -> list[dict[str, Any]]:
    with np.errstate(divide="ignore", invalid="ignore"):
        n = s["count"]
        if task == REGRESSION:
            table = {"rmse": np.sqrt(s["sq"] / n), "mae": s["abs"] / n,
                     "mean_prediction": s["pred"] / n, "mean_target": s["truth"] / n}
        else:
            fp, fn = s["pred"] - s["tp"], s["truth"] - s["tp"]
            table = {"selection_rate": s["pred"] / n, "base_rate": s["truth"] / n,
                     "tpr": s["tp"] / s["truth"], "fpr": fp / (n - s["truth"]),
                     "precision": s["tp"] / s["pred"], "error_rate": (fp + fn) / n}
            if "score" in s:
                table["calibration_gap"] = s["score"] / n - s["truth"] / n
    rows = []
    for i in range(len(n)):
        row: dict[str, Any] = {"count": int(n[i])}
        row.update({k: _number(v[i]) for k, v in table.items()})
        rows.append(row)
    return rows


def _number(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _spread(groups: list[dict[str, Any]], key: str) -> tuple[float | None, float | None]:
    values = [g[key] for g in groups if g.get(key) is not None]
    if not values:
        return None, None
    return max(values) - min(values), (min(values) / max(values) if max(values) else None)


def _disparities(groups: list[dict[str, Any]], task: str) -> dict[str, float | None]:
    if task == REGRESSION:
        return {"rmse_difference": _spread(groups, "rmse")[0],
                "mae_difference": _spread(groups, "mae")[0]}
    difference, ratio = _spread(groups, "selection_rate")
    tpr, fpr = _spread(groups, "tpr")[0], _spread(groups, "fpr")[0]
    odds = None if tpr is None and fpr is None else max(tpr or 0.0, fpr or 0.0)
    return {"demographic_parity_difference": difference, "demographic_parity_ratio": ratio,
            "equalized_odds_difference": odds,
            "equal_opportunity_difference": tpr}
