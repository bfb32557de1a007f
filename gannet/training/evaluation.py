"""Challenger against champion on the same held-out rows: each model's metric, and whether
the challenger improves on the champion by at least the policy's ``min_improvement``.

The rows are a dataset version (``evaluation.dataset``), read through the data capability;
the models are read through the registry, verified as for serving.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument

if TYPE_CHECKING:
    from gannet.data.service import DataService
    from gannet.registry.service import RegistryService
    from gannet.training.types import Evaluation

__all__ = ["compare", "score"]

_PROBABILISTIC = ("roc_auc", "log_loss")


def score(model: Any, rows: Any, labels: Any, metric: str) -> float:
    """``metric`` of a loaded model's predictions for ``rows`` against ``labels``."""
    from gannet.stats import performance

    predictions = model.predict(rows)
    if metric in ("rmse", "mae"):
        return performance.regression(labels, predictions)[metric]
    proba = model.predict_proba(rows) if metric in _PROBABILISTIC else None
    found = performance.classification(labels, predictions, proba)
    if metric not in found:
        raise InvalidArgument(f"metric {metric!r} cannot be computed for this model",
                              "roc_auc and log_loss need a model with predict_proba")
    return float(found[metric])


def compare(evaluation: Evaluation, data: DataService, registry: RegistryService,
            model: str, challenger: int, champion: int | None) -> dict[str, Any]:
    """The numbers of the comparison: each model's metric, the gain, whether it passed."""
    frame = data.open(evaluation.dataset or "", as_="pandas")
    if evaluation.label not in frame.columns:
        raise InvalidArgument(f"held-out dataset {evaluation.dataset} has no column "
                              f"{evaluation.label!r}", "name the label column in evaluation.label")
    rows, labels = frame.drop(columns=[evaluation.label]), frame[evaluation.label].to_numpy()
    mine = score(registry.load_model(f"{model}/{challenger}"), rows, labels, evaluation.metric)
    numbers: dict[str, Any] = {"metric": evaluation.metric, "rows": len(frame),
                               "dataset": evaluation.dataset, "challenger": challenger,
                               "challenger_value": mine, "champion": champion,
                               "min_improvement": evaluation.min_improvement}
    if champion is None:
        numbers.update(champion_value=None, gain=None, passed=not math.isnan(mine))
        return numbers
    theirs = score(registry.load_model(f"{model}/{champion}"), rows, labels, evaluation.metric)
    gain = (theirs - mine) if evaluation.direction == "lower" else (mine - theirs)
    numbers.update(champion_value=theirs, gain=gain,
                   passed=bool(gain >= evaluation.min_improvement))
    return numbers
