"""Why a model decides what it decides: global importance and per-row contributions.

Two families, because neither alone is enough to show a regulator:

- permutation importance (scikit-learn's ``permutation_importance``): how much the score
  drops when one feature is shuffled on held-out data. Works for any model that predicts,
  so it is the fallback when SHAP cannot explain one.
- SHAP values (the ``shap`` package): each feature's contribution to each prediction.
  Trees exactly (``TreeExplainer``), linear models by ``LinearExplainer``, anything else
  that gives numbers by a sampled explainer over a small background sample.

For classifiers the explained output is the positive class (binary) or, per row, the
class the model predicted (multiclass). ``shap`` and scikit-learn load on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gannet.core.errors import InvalidArgument, NotSupported

__all__ = [
    "FALLBACK",
    "SAMPLED",
    "LocalExplainer",
    "LocalExplanation",
    "feature_frame",
    "local_explainer",
    "permutation_summary",
    "summarise",
]

TREE, LINEAR, SAMPLED = "tree", "linear", "sampled"
FALLBACK = "permutation importance"
_TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")
_LINEAR_MODULE = "sklearn.linear_model"
_CHUNK = 8  # rows a sampled explainer explains between looks at the clock


@dataclass(frozen=True)
class LocalExplanation:
    """Per-row contributions: ``values[i, j]`` is feature ``j``'s push on row ``i``'s output
    away from ``base_values[i]`` (the output's expectation over the background; the same
    for every row but for a multiclass model, whose rows explain different classes)."""

    method: str  # tree | linear | sampled
    output: str  # what is explained, in words
    features: list[str]
    base_value: float  # the mean of base_values
    values: np.ndarray  # rows x features
    base_values: np.ndarray  # one per row

    def rows(self) -> list[dict[str, float]]:
        return [dict(zip(self.features, map(float, row), strict=True)) for row in self.values]


class LocalExplainer:
    """One model's SHAP explainer, made once and used for many batches of rows."""

    def __init__(self, model: Any, method: str, explainer: Any, output: str) -> None:
        self.model = model
        self.method = method
        self.explainer = explainer
        self.output = output

    def explain(self, frame: Any, *, budget_s: float | None = None) -> LocalExplanation:
        """Contributions for the rows of ``frame``. A sampled explainer stops between chunks
        of rows once ``budget_s`` is spent (``TimeoutError``): a slow model cannot hold a
        worker."""
        started = time.perf_counter()
        if self.method == SAMPLED and budget_s is not None and len(frame) > 1:
            parts = []
            for i in range(0, len(frame), _CHUNK):
                if time.perf_counter() - started > budget_s:
                    raise TimeoutError(f"explained {i} of {len(frame)} rows in {budget_s:g} s")
                parts.append(self.explainer(frame.iloc[i:i + _CHUNK], silent=True))
            values = np.concatenate([p.values for p in parts])
            base = np.concatenate([np.atleast_1d(p.base_values) for p in parts])
        else:
            result = self.explainer(frame) if self.method != SAMPLED else self.explainer(
                frame, silent=True)
            values, base = result.values, np.atleast_1d(result.base_values)
        values, base = _one_output(self.model, frame, np.asarray(values), np.asarray(base))
        bases = np.broadcast_to(np.asarray(base, dtype=float), (len(values),))
        return LocalExplanation(self.method, self.output, list(frame.columns),
                                float(np.mean(bases)), values, bases)


def feature_frame(model: Any, data: Any, exclude: tuple[str, ...] = ()) -> Any:
    """The columns of ``data`` the model reads: its signature's inputs, else the names it
    was fitted on, else every column but ``exclude`` (the target)."""
    raw = getattr(model, "raw", model)
    signature = getattr(getattr(model, "meta", None), "signature", None)
    names: list[str] | None = None
    if signature is not None and getattr(signature, "inputs", None) is not None:
        names = [n for n in signature.inputs.names if n]
    if not names and hasattr(raw, "feature_names_in_"):
        names = [str(n) for n in raw.feature_names_in_]
    if not names:
        names = [c for c in data.columns if c not in exclude]
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise InvalidArgument(
            f"the data lacks the model's input column(s) {', '.join(map(repr, missing))}",
            f"the model reads: {', '.join(names)}")
    return data[names]


def local_explainer(model: Any, background: Any = None, *, max_evals: int | None = None
                    ) -> LocalExplainer:
    """The best SHAP explainer for ``model`` (its raw estimator is used). Trees need no
    background; linear and sampled explainers need ``background`` (a few hundred rows).

    Raises ``NotSupported`` naming the fallback when SHAP cannot explain the model."""
    raw = getattr(model, "raw", model)
    name = f"{type(raw).__module__}.{type(raw).__name__}"
    try:
        shap = _import_shap()
    except ImportError as exc:
        raise _unsupported(name, "the shap package is not installed "
                                 "(pip install 'gannet-mlops[rai]')") from exc
    module = type(raw).__module__
    if module.startswith(_TREE_MODULES):
        try:
            return LocalExplainer(raw, TREE, shap.TreeExplainer(raw), _output(raw, tree=True))
        except Exception as exc:  # shap refuses this kind of tree: try the sampled one
            if background is None:
                raise _unsupported(name, f"TreeExplainer: {exc}") from exc
    if background is None:
        raise _unsupported(name, "it is not a tree model, and no background sample is "
                                 "stored to explain it by sampling (run gannet models explain)")
    function = _explained_function(raw, name)
    try:
        if module.startswith(_LINEAR_MODULE) and hasattr(raw, "coef_"):
            masker = shap.maskers.Independent(background, max_samples=len(background))
            return LocalExplainer(raw, LINEAR, shap.LinearExplainer(raw, masker), _output(raw))
        evals = max_evals or 2 * background.shape[1] + 1
        explainer = shap.PermutationExplainer(function, background, max_evals=evals, seed=0)
        explainer(background.iloc[:1], silent=True)  # shap compiles its numba code here, once
    except Exception as exc:
        raise _unsupported(name, f"{type(exc).__name__}: {exc}") from exc
    return LocalExplainer(raw, SAMPLED, explainer, _output(raw))


def summarise(explained: LocalExplanation) -> dict[str, Any]:
    """SHAP values summarised per feature: mean |value|, mean (direction), share."""
    values = explained.values
    mean_abs = np.abs(values).mean(axis=0)
    total = float(mean_abs.sum()) or 1.0
    features: list[dict[str, Any]] = [
        {"feature": f, "mean_abs": float(a), "mean": float(m), "share": float(a) / total}
        for f, a, m in zip(explained.features, mean_abs, values.mean(axis=0), strict=True)
    ]
    features.sort(key=lambda item: -item["mean_abs"])
    return {"method": explained.method, "output": explained.output, "rows": len(values),
            "base_value": explained.base_value, "features": features}


def permutation_summary(model: Any, frame: Any, target: Any, *, n_repeats: int = 5,
                        scoring: str | None = None, random_state: int = 0) -> dict[str, Any]:
    """scikit-learn's permutation importance on held-out ``frame``/``target``, per feature
    with its share of the total (negative importances count as zero)."""
    from sklearn.inspection import permutation_importance

    raw = getattr(model, "raw", model)
    if not hasattr(raw, "predict"):
        raise NotSupported(f"{type(raw).__name__} has no predict, so it cannot be scored",
                           "explain a model with a predict method")
    found = permutation_importance(raw, frame, target, n_repeats=n_repeats, scoring=scoring,
                                   random_state=random_state)
    means = np.asarray(found.importances_mean, dtype=float)
    total = float(np.clip(means, 0, None).sum()) or 1.0
    features: list[dict[str, Any]] = [
        {"feature": str(f), "importance_mean": float(m), "importance_std": float(s),
         "share": max(float(m), 0.0) / total}
        for f, m, s in zip(frame.columns, means, found.importances_std, strict=True)
    ]
    features.sort(key=lambda item: -item["importance_mean"])
    default = "accuracy" if _is_classifier(raw) else "r2"
    return {"scoring": scoring or default, "n_repeats": n_repeats,
            "baseline_score": float(raw.score(frame, target)) if scoring is None else None,
            "features": features}


def _import_shap() -> Any:
    """``shap``, whose import warns about matplotlib and numba APIs it uses (its own
    business: not the caller's, whose warnings may be errors)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


def _unsupported(name: str, why: str) -> NotSupported:
    return NotSupported(f"SHAP cannot explain a {name}: {why}",
                        f"Gannet falls back to {FALLBACK} for its global explanation")


def _is_classifier(raw: Any) -> bool:
    return getattr(raw, "_estimator_type", None) == "classifier" or hasattr(raw, "classes_")


def _explained_function(raw: Any, name: str) -> Callable[[Any], Any]:
    if _is_classifier(raw) and hasattr(raw, "predict_proba"):
        return lambda x: np.asarray(raw.predict_proba(_as_frame(raw, x)))
    if _is_classifier(raw):
        raise _unsupported(name, "a classifier without predict_proba gives labels, not "
                                 "numbers SHAP can attribute")
    predict = raw.predict

    def numbers(x: Any) -> Any:
        out = np.asarray(predict(_as_frame(raw, x)))
        if not np.issubdtype(out.dtype, np.number):
            raise TypeError(f"predict returns {out.dtype}, not numbers")
        return out

    return numbers


def _as_frame(raw: Any, x: Any) -> Any:
    names = getattr(raw, "feature_names_in_", None)
    if names is None or hasattr(x, "columns"):
        return x
    import pandas as pd

    return pd.DataFrame(x, columns=list(names))


def _output(raw: Any, tree: bool = False) -> str:
    if not _is_classifier(raw):
        return "the predicted value"
    classes = list(getattr(raw, "classes_", []))
    which = f"class {classes[-1]}" if len(classes) == 2 else "the predicted class"
    kind = "raw margin (log-odds)" if tree and "Forest" not in type(raw).__name__ and \
        "Tree" not in type(raw).__name__ else "probability"
    return f"{kind} of {which}"


def _one_output(raw: Any, frame: Any, values: np.ndarray, base: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(rows x features) values: the positive class's for binary classifiers, the
    predicted class's per row for multiclass ones."""
    if values.ndim == 2:
        return values, base
    if values.shape[2] == 2:
        return values[:, :, 1], base.reshape(-1, 2)[:, 1] if base.size % 2 == 0 else base
    chosen = np.asarray(raw.predict_proba(frame)).argmax(axis=1)
    rows = np.arange(values.shape[0])
    base2 = base.reshape(-1, values.shape[2])
    return values[rows, :, chosen], base2[np.minimum(rows, len(base2) - 1), chosen]
