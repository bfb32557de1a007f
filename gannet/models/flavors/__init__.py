"""The flavor registry: how each kind of model is saved, loaded and asked for predictions.

A flavor is an object satisfying ``Flavor``. Built-in flavors are listed below as
``module:attribute`` references and loaded through the same path as third-party ones,
which declare an entry point in the ``gannet.flavors`` group::

    [project.entry-points."gannet.flavors"]
    catboost = "gannet_catboost:FLAVOR"

or call ``register(flavor)``. Nothing is imported until a flavor is needed, and a flavor
module imports its library (sklearn, lightgbm, ...) inside its functions, so
``import gannet.models`` stays light.

``detect`` asks flavors in ascending ``priority`` (ties: registration order): specific
libraries first, scikit-learn after them (xgboost's and lightgbm's sklearn wrappers are
sklearn estimators too), the plain-Python-class flavor last.

The built-in flavors, one module each: ``sklearn`` (skops; pickle only when signed),
``xgboost`` (native .ubj), ``lightgbm`` (native text), ``onnx`` (onnxruntime),
``pytorch`` (state dict or TorchScript, when torch is installed) and ``python`` (a class
of your own that saves and loads itself).

These flavors are the allow-list of loaders: a package is loaded by the ``load`` of the
installed flavor its manifest names, never by a function the manifest names. A flavor
whose ``load`` runs code that comes from the package itself (imports a module the
manifest names, unpickles) says so with an optional method ``runs_code(meta)``, returning
what it runs as a phrase, or None; ``code_run_by`` asks it. Such a package loads only when
its signature verifies or the caller trusts it (``trust=True``). A flavor without the
method runs no code of the package's (the built-in native formats, onnx).
"""

from __future__ import annotations

import importlib
import logging
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gannet.core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

__all__ = [
    "ENTRY_POINT_GROUP", "Flavor", "code_run_by", "defined_in", "detect", "get", "names",
    "register", "unregister", "versions",
]

ENTRY_POINT_GROUP = "gannet.flavors"
BUILTIN = (
    "gannet.models.flavors.xgboost:FLAVOR",
    "gannet.models.flavors.lightgbm:FLAVOR",
    "gannet.models.flavors.onnx:FLAVOR",
    "gannet.models.flavors.pytorch:FLAVOR",
    "gannet.models.flavors.sklearn:FLAVOR",
    "gannet.models.flavors.python:FLAVOR",
)
WAY_OUT = (
    "wrap it in a class with predict(self, data), save(self, path) and a classmethod "
    "load(cls, path), defined in an importable module: it is saved with the 'python' flavor"
)
log = logging.getLogger(__name__)


@runtime_checkable
class Flavor(Protocol):
    """What every flavor provides; ``raw`` is the model object its ``load`` returns."""

    name: str
    loader: str  # "module:function" that loads a package of this flavor (recorded in it)
    priority: int  # detection order, lower first

    def matches(self, model: Any) -> bool:
        """Whether ``model`` is this flavor's; must not import a library the model lacks."""
        ...

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        """Write the model into ``folder``: (serialization, relative files written, extra).

        ``extra`` goes into the manifest; its ``"requirements"`` list, if any, joins the
        package's requirements (for what only this model needs, e.g. the package of a class).
        A flavor that needs the caller's input example to save (pytorch exports its graph
        with it) adds a keyword-only ``example`` parameter; ``save_model`` then passes it.
        """
        ...

    def load(self, folder: Path, meta: ModelMeta) -> Any: ...

    def predict(self, raw: Any, data: Any) -> Any: ...

    def predict_proba(self, raw: Any, data: Any) -> Any: ...

    def has_predict_proba(self, raw: Any) -> bool: ...

    def signature(self, model: Any) -> Signature | None:
        """The signature the model itself declares (an ONNX graph does), else None."""
        ...

    def libraries(self) -> dict[str, str]:
        """Installed versions of the libraries a package of this flavor needs."""
        ...

    def requirements(self) -> list[str]:
        """pip requirement lines needed to load a package of this flavor."""
        ...


_flavors: dict[str, Flavor] = {}
_order: list[str] = []
_discovered = False
_lock = threading.RLock()


def register(flavor: Flavor) -> Flavor:
    """Add (or replace, by name) a flavor; returns it, so it can decorate an instance."""
    if not isinstance(flavor, Flavor):
        raise InvalidArgument(f"{flavor!r} is not a flavor: it lacks part of the Flavor protocol")
    with _lock:
        if flavor.name not in _flavors:
            _order.append(flavor.name)
        _flavors[flavor.name] = flavor
    return flavor


def unregister(name: str) -> None:
    """Remove a flavor (packages of it then fail to load with a clear error)."""
    _discover()
    with _lock:
        _flavors.pop(name, None)
        if name in _order:
            _order.remove(name)


def get(name: str) -> Flavor:
    _discover()
    try:
        return _flavors[name]
    except KeyError:
        raise NotFound(
            f"no model flavor named {name!r}",
            hint=f"installed flavors: {', '.join(names())}; a third-party flavor registers "
            f"through the {ENTRY_POINT_GROUP!r} entry point group",
        ) from None


def names() -> list[str]:
    _discover()
    return list(_order)


def detect(model: Any) -> Flavor:
    """The flavor that can save ``model``, or InvalidArgument listing the flavors there are."""
    _discover()
    ranked = sorted(_order, key=lambda n: _flavors[n].priority)
    for name in ranked:
        if _flavors[name].matches(model):
            return _flavors[name]
    raise InvalidArgument(
        f"cannot save a {type(model).__module__}.{type(model).__qualname__}: it is none of "
        f"the supported model flavors ({', '.join(ranked)})",
        hint=WAY_OUT,
    )


def code_run_by(flavor: Flavor, meta: ModelMeta) -> str | None:
    """What code of the package's own loading the package ``meta`` with ``flavor`` runs (a
    phrase such as "it is a plain pickle ..."), or None: the flavor's ``runs_code``."""
    runs_code = getattr(flavor, "runs_code", None)
    if not callable(runs_code):
        return None
    found = runs_code(meta)
    return str(found) if found else None


# -- for flavor authors ----------------------------------------------------------------------


def defined_in(model: Any, package: str) -> bool:
    """Whether ``model``'s class or one of its bases comes from ``package`` (no import needed)."""
    prefix = package + "."
    return any(
        cls.__module__ == package or cls.__module__.startswith(prefix)
        for cls in type(model).__mro__
    )


def versions(*distributions: str) -> dict[str, str]:
    """Installed versions by distribution name (those not installed are left out)."""
    found = {}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def _discover() -> None:
    """Load the built-in flavors, then the entry points (which may replace them), once."""
    global _discovered
    if _discovered:
        return
    with _lock:
        if _discovered:
            return
        for reference in BUILTIN:
            flavor = _resolve(reference)
            if flavor.name not in _flavors:  # a flavor registered by hand wins
                register(flavor)
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                register(entry.load())
            except Exception as exc:  # a broken plugin must not break the built-in flavors
                log.warning("flavor entry point %s = %s failed to load: %s", entry.name,
                            entry.value, exc)
        _discovered = True


def _resolve(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)
