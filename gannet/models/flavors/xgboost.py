"""XGBoost boosters and their scikit-learn wrappers, in XGBoost's own UBJSON format.

The native format is safe (no code runs on load) and readable by every later XGBoost. For
a wrapper (XGBClassifier, ...) the manifest records which class it was, so loading gives
back the same wrapper with its ``predict_proba`` and class labels; the class is looked up
only inside xgboost, never imported from a name the manifest could point anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import IntegrityError
from gannet.models.flavors import defined_in, versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

MODEL_FILE = "model.ubj"


class XGBoostFlavor:
    name = "xgboost"
    loader = "gannet.models.flavors.xgboost:load"
    priority = 10

    def matches(self, model: Any) -> bool:
        return defined_in(model, "xgboost") and hasattr(model, "save_model")

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        import xgboost

        model.save_model(str(folder / MODEL_FILE))
        if isinstance(model, xgboost.Booster):
            return "xgboost-ubj", [MODEL_FILE], {"wrapper": None}
        extra: dict[str, Any] = {"wrapper": type(model).__name__}
        classes = getattr(model, "classes_", None)
        if classes is not None:
            extra["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        return "xgboost-ubj", [MODEL_FILE], extra

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        import xgboost

        path = str(Path(folder) / MODEL_FILE)
        wrapper = meta.extra.get("wrapper")
        if not wrapper:
            return xgboost.Booster(model_file=path)
        cls = getattr(xgboost, str(wrapper), None)
        if not (isinstance(cls, type) and issubclass(cls, xgboost.XGBModel)):
            raise IntegrityError(f"unknown xgboost wrapper {wrapper!r} in the manifest")
        model = cls()
        model.load_model(path)
        return model

    def predict(self, raw: Any, data: Any) -> Any:
        import xgboost

        if isinstance(raw, xgboost.Booster):
            return raw.predict(xgboost.DMatrix(data))
        return raw.predict(data)

    def predict_proba(self, raw: Any, data: Any) -> Any:
        return raw.predict_proba(data)

    def has_predict_proba(self, raw: Any) -> bool:
        return hasattr(raw, "predict_proba")

    def signature(self, model: Any) -> Signature | None:
        return None

    def libraries(self) -> dict[str, str]:
        return versions("xgboost", "xgboost-cpu", "numpy", "scikit-learn")

    def requirements(self) -> list[str]:
        found = versions("xgboost", "xgboost-cpu")
        return [f"{name}>={version}" for name, version in found.items()]


FLAVOR = XGBoostFlavor()
load = FLAVOR.load
