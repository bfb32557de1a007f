"""XGBoost and LightGBM: their scikit-learn wrappers (``XGBClassifier.fit``, ...) and their
native ``xgboost.train`` / ``lightgbm.train``.

A wrapper's fit trains through the library's own train function and (LightGBM) a
LabelEncoder: those inner calls are part of the outer fit and stay quiet. Native training
logs its params, the per-iteration eval metrics with their steps (``validation-logloss``),
the booster as a model with the first rows of the training data as input example, and a
feature-importance plot.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from gannet.tracking.autolog import plots
from gannet.tracking.autolog.estimators import (
    EXAMPLE_ROWS,
    flatten,
    history_of,
    input_example,
    prepare_fit,
)
from gannet.tracking.autolog.patching import Call, RunLogger, patch_all
from gannet.tracking.autolog.sklearn import methods_of


def _wrappers(module: ModuleType, base: type) -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls.__module__.startswith(base.__module__.split(".")[0])
    ]


# -- XGBoost -----------------------------------------------------------------------------------


def patch_xgboost(module: ModuleType) -> None:
    import xgboost.sklearn

    classes = _wrappers(xgboost.sklearn, xgboost.sklearn.XGBModel)
    patch_all(list(methods_of(classes)), prepare_fit("xgboost"))
    patch_all([(module, "train", module.train)], _prepare_xgboost_train)


def _prepare_xgboost_train(args: tuple, kwargs: dict[str, Any]) -> Call:
    params = dict(_arg(args, kwargs, 0, "params") or {})
    dtrain = _arg(args, kwargs, 1, "dtrain")
    rounds = _arg(args, kwargs, 2, "num_boost_round", 10)
    results = kwargs.get("evals_result")
    if results is None:
        results = kwargs["evals_result"] = {}

    def after(logger: RunLogger, booster: Any) -> None:
        logger.params.update(flatten({**params, "num_boost_round": rounds}))
        logger.tags["estimator_name"] = "xgboost.train"
        _log_booster(logger, booster, results, lambda: _dmatrix_rows(dtrain))
        if plots.available():
            scores = booster.get_score(importance_type="weight")
            logger.attempt("plots", lambda: _importance_plot(logger, scores))

    return Call(args, kwargs, "xgboost", "xgboost.train", True, after)


def _dmatrix_rows(dtrain: Any) -> Any:
    """The first rows of a DMatrix, as a DataFrame when it has feature names."""
    import pandas as pd

    rows = dtrain.get_data()[:EXAMPLE_ROWS].toarray()
    names = dtrain.feature_names
    return pd.DataFrame(rows, columns=list(names)) if names else rows


# -- LightGBM ----------------------------------------------------------------------------------


def patch_lightgbm(module: ModuleType) -> None:
    import lightgbm.sklearn

    classes = _wrappers(lightgbm.sklearn, lightgbm.sklearn.LGBMModel)
    patch_all(list(methods_of(classes)), prepare_fit("lightgbm"))
    patch_all([(module, "train", module.train)], _prepare_lightgbm_train)


def _prepare_lightgbm_train(args: tuple, kwargs: dict[str, Any]) -> Call:
    import lightgbm

    params = dict(_arg(args, kwargs, 0, "params") or {})
    train_set = _arg(args, kwargs, 1, "train_set")
    rounds = _arg(args, kwargs, 2, "num_boost_round", 100)
    results: dict[str, Any] = {}
    callbacks = list(_arg(args, kwargs, 8, "callbacks") or [])
    callbacks.append(lightgbm.record_evaluation(results))
    args, kwargs = args[:8], {**kwargs, "callbacks": callbacks}
    raw = getattr(train_set, "data", None)  # freed once the Dataset is built: keep it now
    example = input_example(raw)

    def after(logger: RunLogger, booster: Any) -> None:
        logger.params.update(flatten({**params, "num_boost_round": rounds}))
        logger.tags["estimator_name"] = "lightgbm.train"
        _log_booster(logger, booster, results, lambda: example)
        if plots.available():
            scores = dict(zip(booster.feature_name(), booster.feature_importance(), strict=True))
            logger.attempt("plots", lambda: _importance_plot(logger, scores))

    return Call(args, kwargs, "lightgbm", "lightgbm.train", True, after)


# -- shared by both native trainings -----------------------------------------------------------


def _arg(args: tuple, kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _log_booster(
    logger: RunLogger, booster: Any, results: Any, example: Callable[[], Any]
) -> None:
    history = history_of(results)
    if history:
        logger.attempt("the eval history", lambda: logger.sink.log_history(logger.run_id, history))
    try:
        best = booster.best_iteration
    except Exception:  # XGBoost raises when there was no early stopping
        best = None
    if isinstance(best, int) and best > 0:
        logger.metrics["best_iteration"] = float(best)
    try:
        rows = example()
    except Exception:  # a DMatrix built from a file or an iterator: a model without example
        rows = None
    logger.attempt("the model", lambda: logger.sink.log_model(logger.run_id, booster, rows))


def _importance_plot(logger: RunLogger, scores: dict[str, float]) -> None:
    if scores:
        figure = plots.feature_importance(list(scores), list(scores.values()))
        logger.sink.log_figure(logger.run_id, figure, "feature_importance.png")
