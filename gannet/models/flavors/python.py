"""The way out for any other model: a class of your own that saves and loads itself.

The class needs ``predict(self, data)``, ``save(self, path)`` and a classmethod (or
staticmethod) ``load(path)``. Gannet calls ``save`` into the package's ``artifacts/``
folder and records the class as ``module:qualname``; loading imports that class and calls
``load``. So the class must live in an importable module (not ``__main__``, not inside a
function), and the package that defines it must be installed where the model is loaded;
its distribution is added to the requirements when Gannet can tell which it is.

Importing a module the manifest names runs code, so such a package loads only when its
signature verifies (through the registry) or the caller passes ``trust=True``
(``runs_code`` says so to ``load_package``).
"""

from __future__ import annotations

import importlib
import inspect
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.models.flavors import versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

ARTIFACTS = "artifacts"


class PythonFlavor:
    name = "python"
    loader = "gannet.models.flavors.python:load"
    priority = 90  # the last resort

    def matches(self, model: Any) -> bool:
        cls = type(model)
        loader = inspect.getattr_static(cls, "load", None)
        return (
            callable(getattr(model, "predict", None))
            and callable(getattr(model, "save", None))
            and isinstance(loader, (classmethod, staticmethod))
        )

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        cls = type(model)
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            where = "a function" if "<locals>" in cls.__qualname__ else "__main__"
            raise InvalidArgument(
                f"class {cls.__qualname__} is defined in {where}, so it could not be imported "
                "to load the model",
                hint="move the class into an importable module of your project",
            )
        (folder / ARTIFACTS).mkdir()
        model.save(folder / ARTIFACTS)
        extra: dict[str, Any] = {"class": f"{cls.__module__}:{cls.__qualname__}"}
        distribution = _distribution(cls.__module__)
        if distribution:
            extra["requirements"] = [distribution]
        written = [p.relative_to(folder).as_posix() for p in (folder / ARTIFACTS).rglob("*")]
        return "python-class", written, extra

    def runs_code(self, meta: ModelMeta) -> str:
        if meta.extra.get("imported_from") == "mlflow":
            return "it is an MLflow python_function model: mlflow unpickles it or runs its code"
        named = meta.extra.get("class") or "the class its manifest names"
        return f"it imports {named} and calls its load"

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        return model_class(str(meta.extra.get("class", ""))).load(Path(folder) / ARTIFACTS)

    def predict(self, raw: Any, data: Any) -> Any:
        return raw.predict(data)

    def predict_proba(self, raw: Any, data: Any) -> Any:
        return raw.predict_proba(data)

    def has_predict_proba(self, raw: Any) -> bool:
        return callable(getattr(raw, "predict_proba", None))

    def signature(self, model: Any) -> Signature | None:
        return None

    def libraries(self) -> dict[str, str]:
        return versions("numpy", "pandas")

    def requirements(self) -> list[str]:
        return []


def model_class(reference: str) -> Any:
    """The class named ``module:qualname``, or InvalidArgument saying what to install."""
    module_name, _, qualname = reference.partition(":")
    if not module_name or not qualname:
        raise InvalidArgument(f"the manifest names no model class (got {reference!r})")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgument(
            f"cannot import {module_name}.{qualname}: install the package that defines it",
            hint=f"{type(exc).__name__}: {exc}",
        ) from exc
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise InvalidArgument(f"module {module_name} has no class {qualname}: install the "
                                  "version of the package that defines it")
    return target


def _distribution(module: str) -> str | None:
    """``name==version`` of the installed distribution providing ``module``, if any."""
    top = module.split(".")[0]
    names = metadata.packages_distributions().get(top) or []
    for name in names:
        found = versions(name)
        if found:
            return f"{name}=={found[name]}"
    return None


FLAVOR = PythonFlavor()
load = FLAVOR.load
