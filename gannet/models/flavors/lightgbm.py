"""LightGBM boosters and their scikit-learn wrappers, as LightGBM's own text model file.

The text format is safe and stable across LightGBM versions, but it holds only the
booster: a wrapper's class labels live in the manifest (``extra["classes"]``). A saved
classifier therefore loads as a ``BoosterClassifier``: the booster plus those labels, which
answers ``predict`` (labels, as LGBMClassifier does) and ``predict_proba`` (one column per
class, also for binary models whose booster gives one probability).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.models.flavors import defined_in, versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

MODEL_FILE = "model.txt"


class BoosterClassifier:
    """A LightGBM booster with the class labels its sklearn wrapper had."""

    def __init__(self, booster: Any, classes: list[Any]) -> None:
        import numpy as np

        self.booster = booster
        self.classes_ = np.asarray(classes)

    def predict_proba(self, data: Any) -> Any:
        import numpy as np

        scores = self.booster.predict(_table(data))
        if scores.ndim == 1:  # binary: the probability of the second class
            return np.column_stack([1.0 - scores, scores])
        return scores

    def predict(self, data: Any) -> Any:
        return self.classes_[self.predict_proba(data).argmax(axis=1)]


class LightGBMFlavor:
    name = "lightgbm"
    loader = "gannet.models.flavors.lightgbm:load"
    priority = 10

    def matches(self, model: Any) -> bool:
        return defined_in(model, "lightgbm") and any(
            cls.__name__ in ("Booster", "LGBMModel") for cls in type(model).__mro__
        )

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        import lightgbm

        if isinstance(model, lightgbm.Booster):
            model.save_model(folder / MODEL_FILE)
            return "lightgbm-text", [MODEL_FILE], {"wrapper": None}
        model.booster_.save_model(folder / MODEL_FILE)
        extra: dict[str, Any] = {
            "wrapper": type(model).__name__,
            "objective": str(model.objective_) if getattr(model, "objective_", None) else None,
        }
        if isinstance(model, lightgbm.LGBMClassifier):
            extra["classes"] = [c.item() if hasattr(c, "item") else c for c in model.classes_]
        return "lightgbm-text", [MODEL_FILE], extra

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        import lightgbm

        booster = lightgbm.Booster(model_file=Path(folder) / MODEL_FILE)
        classes = meta.extra.get("classes")
        return booster if classes is None else BoosterClassifier(booster, list(classes))

    def predict(self, raw: Any, data: Any) -> Any:
        if isinstance(raw, BoosterClassifier):
            return raw.predict(data)
        return raw.predict(_table(data))

    def predict_proba(self, raw: Any, data: Any) -> Any:
        return raw.predict_proba(data)

    def has_predict_proba(self, raw: Any) -> bool:
        return isinstance(raw, BoosterClassifier)

    def signature(self, model: Any) -> Signature | None:
        return None

    def libraries(self) -> dict[str, str]:
        return versions("lightgbm", "numpy", "scikit-learn")

    def requirements(self) -> list[str]:
        return [f"lightgbm>={v}" for v in versions("lightgbm").values()]


def _table(data: Any) -> Any:
    """Refuse what Booster.predict would read as a file name (a string from a request)."""
    if isinstance(data, (str, Path)):
        raise InvalidArgument("LightGBM input must be a table or an array, not a string")
    return data


FLAVOR = LightGBMFlavor()
load = FLAVOR.load
