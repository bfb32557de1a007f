"""One window's report: drift, prediction drift, data quality and performance, as JSON.

``Reference`` holds a monitor's reference prepared once (numeric columns sorted, categories
counted). ``evaluate(reference, window, options)`` compares a window of the log (the
columns ``input.<feature>``, ``prediction``, ``ts``) with it; ``performance(labelled,
options)`` scores the rows whose labels arrived, overall and per declared slice, with the
label delay. ``flat_metrics`` gives the numbers alert rules and Prometheus read::

    rows, drift.share, drift.columns, drift.dataset, prediction_drift.score,
    prediction_drift.drifted, quality.null_share, quality.out_of_range_share,
    quality.unseen_share, quality.missing_columns, quality.issues,
    performance.<metric> (accuracy, precision, recall, f1, roc_auc, log_loss, rmse, mae),
    fairness.<slice>.<disparity> (live fairness over each slice feature: a binary
    classifier's demographic_parity_difference/ratio, equalized_odds_difference; a
    regressor's rmse_difference, mae_difference; ``gannet.stats.fairness``),
    labels.count, labels.coverage, labels.delay_p50_s, labels.delay_p90_s, labels.unknown
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gannet.monitoring.reference import INPUT
from gannet.stats.columns import Prepared, in_threads, prepare
from gannet.stats.dataset_drift import compare
from gannet.stats.performance import classification, regression, task_of
from gannet.stats.quality import assess

if TYPE_CHECKING:
    import pyarrow as pa

    from gannet.monitoring.types import MonitorOptions

__all__ = ["Reference", "evaluate", "flat_metrics", "performance"]

MAX_SLICE_VALUES = 20


@dataclass
class Reference:
    features: dict[str, Prepared]
    prediction: Prepared | None

    @classmethod
    def of(cls, table: pa.Table, options: MonitorOptions) -> Reference:
        names = options.features or [c for c in table.column_names
                                     if c not in (options.prediction, "label")]
        missing = [n for n in names if n not in table.column_names]
        if missing:
            from gannet.core.errors import InvalidArgument

            raise InvalidArgument(f"features missing from the reference: {', '.join(missing)}",
                                  hint="name features the reference has")
        prediction = (prepare("prediction", table.column(options.prediction))
                      if options.prediction in table.column_names else None)
        return cls({n: prepare(n, table.column(n)) for n in names}, prediction)


def evaluate(reference: Reference, window: pa.Table, options: MonitorOptions) -> dict[str, Any]:
    """Drift, prediction drift and quality of ``window`` (see the module's docstring)."""
    present = set(window.column_names)
    names = [n for n in reference.features if INPUT + n in present]
    current = dict(zip(names, in_threads(lambda n: prepare(n, window.column(INPUT + n)),
                                         names, window.num_rows), strict=True))
    pairs = {name: (ref, current.get(name)) for name, ref in reference.features.items()}
    quality = assess(pairs, window.num_rows, new_columns=[
        c[len(INPUT):] for c in window.column_names
        if c.startswith(INPUT) and c[len(INPUT):] not in reference.features],
        min_rows=options.min_rows)
    tested = {name: (ref, cur) for name, (ref, cur) in pairs.items() if cur is not None}
    drift = compare(tested, method=options.method, threshold=options.threshold,
                    drift_share=options.drift_share, correction=options.correction,
                    min_rows=options.min_rows)
    body: dict[str, Any] = {"rows": window.num_rows, "drift": drift.to_dict(),
                            "quality": quality.to_dict(), "prediction_drift": None}
    if reference.prediction is not None and "prediction" in present:
        predicted = prepare("prediction", window.column("prediction"))
        found = compare({"prediction": (reference.prediction, predicted)},
                        min_rows=options.min_rows)
        body["prediction_drift"] = found.to_dict()["columns"]["prediction"]
    return body


def performance(labelled: pa.Table, rows: int, options: MonitorOptions) -> dict[str, Any] | None:
    """Scores over the rows of a window whose labels arrived (``label``, ``label_ts``,
    ``prediction``, ``proba.*``), overall and by slice; None when no label arrived."""
    import numpy as np

    if labelled.num_rows == 0:
        return None
    labels = labelled.column("label").to_numpy(zero_copy_only=False)
    task = options.task if options.task != "auto" else task_of(labels)
    delays = (labelled.column("label_ts").to_numpy(zero_copy_only=False).astype(float)
              - labelled.column("ts").to_numpy(zero_copy_only=False).astype(float)) / 1000
    found: dict[str, Any] = {
        "task": task, "labelled": labelled.num_rows,
        "coverage": labelled.num_rows / rows if rows else None,
        "delay_seconds": {"p50": float(np.percentile(delays, 50)),
                          "p90": float(np.percentile(delays, 90))},
        "overall": _scores(labelled, task), "slices": {},
    }
    for feature in options.slices:
        column = INPUT + feature
        if column not in labelled.column_names:
            continue
        values = np.asarray(labelled.column(column).to_pylist(), dtype=object)
        kinds, counts = np.unique(values.astype(str), return_counts=True)
        top = kinds[np.argsort(-counts)][:MAX_SLICE_VALUES]
        texts = values.astype(str)
        found["slices"][feature] = {
            value: {"labelled": int((texts == value).sum()),
                    **_scores(labelled.filter(texts == value), task)}
            for value in top}
    found["fairness"] = _fairness(labelled, task, options.slices)
    return found


def _fairness(labelled: pa.Table, task: str, slices: list[str]) -> dict[str, Any]:
    """Disparities between the groups of each slice feature (groups under 30 labelled
    rows left out), for alert rules to watch fairness live as they watch drift."""
    import numpy as np

    from gannet.stats.fairness import fairness_report

    columns = [INPUT + f for f in slices if INPUT + f in labelled.column_names]
    if not columns or "prediction" not in labelled.column_names:
        return {}
    labels = labelled.column("label").to_numpy(zero_copy_only=False)
    predictions = labelled.column("prediction").to_numpy(zero_copy_only=False)
    if task != "regression":
        classes = np.unique(labels.astype(str))
        if len(classes) != 2:
            return {}  # fairness compares one favourable outcome: a binary label
        favourable = sorted(classes)[-1]
        labels = (labels.astype(str) == favourable).astype(float)
        predictions = (predictions.astype(str) == favourable).astype(float)
    frame = labelled.select(columns).to_pandas()
    frame.columns = [c[len(INPUT):] for c in columns]
    report = fairness_report(frame, y_true=labels, y_pred=predictions,
                             sensitive=list(frame.columns),
                             task="regression" if task == "regression" else "classification")
    return {name: found["disparities"] for name, found in report["attributes"].items()
            if "+" not in name}


def _scores(labelled: pa.Table, task: str) -> dict[str, float]:
    import numpy as np

    if labelled.num_rows == 0 or "prediction" not in labelled.column_names:
        return {}
    labels = labelled.column("label").to_numpy(zero_copy_only=False)
    predictions = labelled.column("prediction").to_numpy(zero_copy_only=False)
    if task == "regression":
        return regression(labels, predictions)
    proba_columns = sorted((c for c in labelled.column_names if c.startswith("proba.")),
                           key=lambda c: (len(c), c))
    proba = (np.column_stack([labelled.column(c).to_numpy(zero_copy_only=False)
                              for c in proba_columns]) if proba_columns else None)
    return classification(labels, predictions, proba)


def flat_metrics(body: dict[str, Any]) -> dict[str, float]:
    """The report's numbers by dotted name (see the module's docstring)."""
    drift = body.get("drift") or {}
    metrics: dict[str, float] = {
        "rows": float(body.get("rows", 0)),
        "drift.share": float(drift.get("share", 0.0)),
        "drift.columns": float(len(drift.get("drifted_columns", []))),
        "drift.dataset": float(bool(drift.get("dataset_drift"))),
    }
    prediction = body.get("prediction_drift")
    if prediction and prediction.get("score") is not None:
        metrics["prediction_drift.score"] = float(prediction["score"])
        metrics["prediction_drift.drifted"] = float(bool(prediction["drifted"]))
    for name, value in (body.get("quality") or {}).get("metrics", {}).items():
        metrics[f"quality.{name}"] = float(value)
    found = body.get("performance")
    if found:
        for name, value in found["overall"].items():
            metrics[f"performance.{name}"] = float(value)
        metrics["labels.count"] = float(found["labelled"])
        if found.get("coverage") is not None:
            metrics["labels.coverage"] = float(found["coverage"])
        metrics["labels.delay_p50_s"] = found["delay_seconds"]["p50"]
        metrics["labels.delay_p90_s"] = found["delay_seconds"]["p90"]
        for feature, disparities in (found.get("fairness") or {}).items():
            metrics.update({f"fairness.{feature}.{k}": float(v)
                            for k, v in disparities.items() if v is not None})
    if "unknown_labels" in body:
        metrics["labels.unknown"] = float(body["unknown_labels"])
    return metrics
