"""Which scikit-learn methods autolog wraps: ``fit``, ``fit_transform`` and ``fit_predict``
of every estimator ``all_estimators()`` lists, except data-preparation steps.

As MLflow does, steps that prepare data rather than learn a model (``sklearn.preprocessing``,
``impute``, ``feature_extraction``, ``feature_selection`` and ``ColumnTransformer``) are
never logged on their own, inside a run or outside one; inside a Pipeline they are part of
the Pipeline's run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from gannet.tracking.autolog.estimators import prepare_fit
from gannet.tracking.autolog.patching import patch_all

FLAVOR = "sklearn"
METHODS = ("fit", "fit_transform", "fit_predict")
DATA_PREPARATION = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
NOT_MODELS = ("ColumnTransformer",)


def patch(module: ModuleType) -> None:
    from sklearn.utils import all_estimators

    estimators = [cls for _, cls in all_estimators()]
    kept = [
        cls
        for cls in estimators
        if not cls.__module__.startswith(DATA_PREPARATION) and cls.__name__ not in NOT_MODELS
    ]
    patch_all(list(methods_of(kept)), prepare_fit(FLAVOR))


def methods_of(classes: Iterable[type]) -> Iterable[tuple[type, str, Callable[..., Any]]]:
    """(class, name, the function it resolves to) for each training method that is a plain
    function (scikit-learn's ``available_if`` methods answer on the instance, not here)."""
    for cls in classes:
        for name in METHODS:
            found = inspect.getattr_static(cls, name, None)
            if inspect.isfunction(found):
                yield cls, name, found
