"""What autolog logs for an estimator with scikit-learn's API (scikit-learn's own, and the
XGBoost and LightGBM wrappers): params, training metrics, eval history, model, plots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gannet.tracking.autolog import plots
from gannet.tracking.autolog.patching import Call, Prepare, RunLogger
from gannet.tracking.validation import MAX_PARAM_VALUE

EXAMPLE_ROWS = 5  # rows of the training data kept as the model's input example


def prepare_fit(flavor: str) -> Prepare:
    """How a ``fit`` / ``fit_transform`` / ``fit_predict`` of ``flavor`` is logged."""

    def prepare(args: tuple, kwargs: dict[str, Any]) -> Call:
        estimator = args[0]
        X = args[1] if len(args) > 1 else kwargs.get("X")
        y = args[2] if len(args) > 2 else kwargs.get("y")
        return Call(
            args,
            kwargs,
            flavor=flavor,
            run_name=type(estimator).__name__,
            starts_run=is_predictor(estimator),
            after=lambda logger, _: log_fitted(logger, estimator, X, y),
        )

    return prepare


def is_predictor(estimator: Any) -> bool:
    """A model that predicts (a classifier, regressor, clusterer): its top-level fit starts
    a run; a transformer's (StandardScaler, PCA) never does."""
    return hasattr(estimator, "predict") or hasattr(estimator, "fit_predict")


def log_fitted(logger: RunLogger, estimator: Any, X: Any, y: Any) -> None:
    cls = type(estimator)
    logger.tags.update(
        {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}
    )
    logger.attempt("params", lambda: logger.params.update(estimator_params(estimator)))
    logger.attempt("training metrics", lambda: logger.metrics.update(training_metrics(
        estimator, X, y)))
    logger.attempt("the eval history", lambda: _log_history(logger, eval_history(estimator)))
    if hasattr(estimator, "predict"):
        logger.attempt("the model", lambda: logger.sink.log_model(
            logger.run_id, estimator, input_example(X)))
    if plots.available():
        logger.attempt("plots", lambda: _log_plots(logger, estimator, X, y))


def _log_history(logger: RunLogger, history: dict[str, list[float]]) -> None:
    if history:
        logger.sink.log_history(logger.run_id, history)


def estimator_params(estimator: Any) -> dict[str, str]:
    params = flatten(estimator.get_params(deep=True))
    best = getattr(estimator, "best_params_", None)  # a parameter search: what it chose
    if isinstance(best, Mapping):
        params.update({f"best_{k}": v for k, v in flatten(best).items()})
    return params


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts as ``outer.inner`` keys, every value as text within the param limit."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = short(value)
    return flat


def short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_VALUE else text[: MAX_PARAM_VALUE - 3] + "..."


def input_example(X: Any) -> Any:
    """The first rows of the training data, or None for what cannot be an example
    (sparse matrices, generators)."""
    import numpy as np

    if X is None:
        return None
    if hasattr(X, "iloc"):
        return X.iloc[:EXAMPLE_ROWS]
    if isinstance(X, (list, tuple, np.ndarray)):
        array = np.asarray(X[:EXAMPLE_ROWS])
        return array if array.dtype != object else None
    return None


# -- training metrics ------------------------------------------------------------------------


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """MLflow's training metrics: each one that cannot be computed is left out."""
    if y is None or not hasattr(estimator, "predict"):
        return {}
    from sklearn.base import is_classifier, is_regressor

    metrics = _each({"training_score": lambda: estimator.score(X, y)})
    predicted = estimator.predict(X)
    if is_classifier(estimator):
        metrics.update(_classifier_metrics(estimator, X, y, predicted))
    elif is_regressor(estimator):
        metrics.update(_regressor_metrics(y, predicted))
    return metrics


def _classifier_metrics(estimator: Any, X: Any, y: Any, predicted: Any) -> dict[str, float]:
    from sklearn import metrics as m

    def averaged(score: Any) -> Any:
        return lambda: score(y, predicted, average="weighted", zero_division=0)

    found = _each({
        "training_accuracy_score": lambda: m.accuracy_score(y, predicted),
        "training_precision_score": averaged(m.precision_score),
        "training_recall_score": averaged(m.recall_score),
        "training_f1_score": averaged(m.f1_score),
    })
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        labels = getattr(estimator, "classes_", None)
        found.update(_each({
            "training_log_loss": lambda: m.log_loss(y, proba, labels=labels),
            "training_roc_auc": lambda: _roc_auc(y, proba, labels),
        }))
    return found


def _roc_auc(y: Any, proba: Any, labels: Any) -> float:
    from sklearn.metrics import roc_auc_score

    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", labels=labels))


def _regressor_metrics(y: Any, predicted: Any) -> dict[str, float]:
    from sklearn import metrics as m

    return _each({
        "training_mean_squared_error": lambda: m.mean_squared_error(y, predicted),
        "training_root_mean_squared_error": lambda: m.mean_squared_error(y, predicted) ** 0.5,
        "training_mean_absolute_error": lambda: m.mean_absolute_error(y, predicted),
        "training_r2_score": lambda: m.r2_score(y, predicted),
    })


def _each(computations: dict[str, Any]) -> dict[str, float]:
    found = {}
    for name, compute in computations.items():
        try:
            found[name] = float(compute())
        except Exception:  # e.g. roc_auc when a class is missing: not an error of the user's
            continue
    return found


# -- boosting history and plots --------------------------------------------------------------


def eval_history(estimator: Any) -> dict[str, list[float]]:
    """Per-iteration eval metrics of a boosting wrapper (``validation_0-logloss``: MLflow's
    names), from its ``evals_result_`` (LightGBM) or ``evals_result()`` (XGBoost)."""
    results = getattr(estimator, "evals_result_", None)
    if results is None and callable(getattr(estimator, "evals_result", None)):
        try:
            results = estimator.evals_result()
        except Exception:  # XGBoost raises when fit had no eval_set
            results = None
    return history_of(results or {})


def history_of(results: Mapping[str, Mapping[str, Any]]) -> dict[str, list[float]]:
    return {
        f"{data}-{metric}": [float(v) for v in values]
        for data, by_metric in results.items()
        for metric, values in by_metric.items()
    }


def _log_plots(logger: RunLogger, estimator: Any, X: Any, y: Any) -> None:
    labels = getattr(estimator, "classes_", None)
    if y is not None and labels is not None and hasattr(estimator, "predict"):
        figure = plots.confusion_matrix(y, estimator.predict(X), list(labels))
        logger.sink.log_figure(logger.run_id, figure, "training_confusion_matrix.png")
    importances = getattr(estimator, "feature_importances_", None)
    if importances is not None:
        names = feature_names(estimator, len(importances))
        figure = plots.feature_importance(names, list(importances))
        logger.sink.log_figure(logger.run_id, figure, "feature_importance.png")


def feature_names(estimator: Any, count: int) -> list[str]:
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == count:
        return [str(n) for n in names]
    return [f"f{i}" for i in range(count)]
