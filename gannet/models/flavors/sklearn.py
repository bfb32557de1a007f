"""scikit-learn estimators and pipelines, saved with skops (safe) or, if they must, pickle.

skops rebuilds objects without running pickle's arbitrary code, but only from types the
loader trusts. We trust what comes from scikit-learn, numpy and scipy (and builtin
types) - the same set at save and at load. An estimator holding anything else (a custom
transformer from user code, a lambda) cannot be loaded safely from skops without trusting
that code, so it is saved as a pickle instead; a pickle package loads only with
``trust=True`` or through the registry once its signature verifies (``runs_code``).
"""

from __future__ import annotations

import builtins
import importlib
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import IntegrityError, InvalidArgument
from gannet.models.flavors import defined_in, versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.pkl"
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")


class SklearnFlavor:
    name = "sklearn"
    loader = "gannet.models.flavors.sklearn:load"
    priority = 50  # after the libraries whose wrappers are sklearn estimators too

    def matches(self, model: Any) -> bool:
        return defined_in(model, "sklearn") and hasattr(model, "predict")

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        extra = {
            "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
            "has_predict_proba": hasattr(model, "predict_proba"),
        }
        classes = getattr(model, "classes_", None)
        if classes is not None:
            extra["classes"] = [_plain(c) for c in classes]
        trusted, reason = _save_skops(model, folder / SKOPS_FILE)
        if reason is None:
            return "skops", [SKOPS_FILE], {**extra, "skops_trusted": trusted}
        (folder / SKOPS_FILE).unlink(missing_ok=True)
        try:
            with open(folder / PICKLE_FILE, "wb") as stream:
                pickle.dump(model, stream, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise InvalidArgument(
                f"cannot save this {type(model).__name__}: skops refused it ({reason}) and "
                f"pickle failed too ({type(exc).__name__}: {exc})",
                hint="objects like lambdas and open files cannot be saved; use named functions",
            ) from exc
        return "pickle", [PICKLE_FILE], {**extra, "pickle_reason": reason}

    def runs_code(self, meta: ModelMeta) -> str | None:
        if meta.serialization == "pickle":
            return "it is a plain pickle, and unpickling runs arbitrary code"
        return None

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        if meta.serialization == "pickle":  # load_package has checked that it is trusted
            with open(Path(folder) / PICKLE_FILE, "rb") as stream:
                return pickle.load(stream)
        if meta.serialization != "skops":
            raise IntegrityError(f"unknown sklearn serialization {meta.serialization!r}")
        import skops.io as sio
        from skops.io.exceptions import UntrustedTypesFoundException

        path = Path(folder) / SKOPS_FILE
        recorded = meta.extra.get("skops_trusted")
        # The types recorded at save time spare a second parse of the file; skops itself
        # refuses any type outside the list, and each listed type is checked here.
        trusted = recorded if isinstance(recorded, list) else sio.get_untrusted_types(file=path)
        refused = [t for t in trusted if not auto_trusted(str(t))]
        try:
            if refused:
                raise UntrustedTypesFoundException(refused)
            return sio.load(path, trusted=trusted)
        except UntrustedTypesFoundException as exc:
            raise IntegrityError(
                f"{path} refers to types outside scikit-learn, numpy and scipy ({exc}); "
                "it is not loaded",
                hint="a package written by save_model never holds such types in skops",
            ) from exc

    def predict(self, raw: Any, data: Any) -> Any:
        return raw.predict(data)

    def predict_proba(self, raw: Any, data: Any) -> Any:
        return raw.predict_proba(data)

    def has_predict_proba(self, raw: Any) -> bool:
        return hasattr(raw, "predict_proba")  # a Pipeline answers for its final step

    def signature(self, model: Any) -> Signature | None:
        return None

    def libraries(self) -> dict[str, str]:
        return versions("scikit-learn", "numpy", "scipy", "skops")

    def requirements(self) -> list[str]:
        found = versions("scikit-learn", "skops")
        return [f"{name}=={version}" for name, version in found.items()]


def _save_skops(model: Any, path: Path) -> tuple[list[str], str | None]:
    """Dump with skops: (types to trust on load, why it cannot be trusted or None)."""
    import skops.io as sio

    try:
        sio.dump(model, path)
        untrusted = sorted(sio.get_untrusted_types(file=path))
    except Exception as exc:
        return [], f"skops cannot serialise it: {type(exc).__name__}: {exc}"
    refused = [t for t in untrusted if not auto_trusted(t)]
    if refused:
        return [], f"it holds types outside scikit-learn, numpy and scipy: {', '.join(refused)}"
    return untrusted, None


def auto_trusted(type_name: str) -> bool:
    """Whether a type skops reports may be trusted without asking: a class (or numpy ufunc)
    defined in scikit-learn, numpy or scipy, or a builtin type (never a builtin function
    such as ``eval``). Its module is imported to check it, so never a dunder module such
    as ``numpy.f2py.__main__``, which runs a program when imported."""
    module, _, attribute = type_name.rpartition(".")
    if module == "builtins":
        return isinstance(getattr(builtins, attribute, None), type)
    parts = module.split(".")
    if parts[0] not in TRUSTED_PACKAGES or any(p.startswith("__") for p in parts):
        return False
    try:
        target = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return isinstance(target, type) or type(target).__name__ == "ufunc"


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value YAML can hold."""
    return value.item() if hasattr(value, "item") else value


FLAVOR = SklearnFlavor()
load = FLAVOR.load
