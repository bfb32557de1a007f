"""On-demand features: a Python function computing features from request data and other
features, at the moment they are asked for (training sets, online reads, serving).

``OnDemandFeatureView(name, sources, func, schema)``: ``sources`` lists what ``func`` reads,
``view:feature`` references to registered feature views and bare names of request
fields (columns the caller gives: the entity frame's in a training set, the request's in
serving); ``func`` takes one pandas DataFrame with those columns (features by their bare
names) and returns a DataFrame (or a mapping of columns) with the ``schema``'s columns, one
row per input row. The same function runs offline and online, so training and serving
compute the feature the same way.

A registered definition keeps the function as ``module:qualname``; a process that did not
define it (the inference server) imports it from there, so it must live in an importable
module (a function defined in a script is found only by that script's process).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from gannet.core.errors import InvalidArgument, InvalidState, ModelFailed
from gannet.features.types import Feature, _features, check_name

__all__ = ["OnDemandFeatureView", "asked_on_demand", "compute_on_demand", "expand_refs"]

KIND = "on_demand_view"
_DEFINED: dict[str, Callable[..., Any]] = {}  # function path -> the function, this process


@dataclass(frozen=True)
class OnDemandFeatureView:
    name: str
    sources: tuple[str, ...]
    features: tuple[Feature, ...]
    function: str  # module:qualname
    description: str = ""
    owner: str = ""
    func: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def __init__(self, name: str, sources: Sequence[str], func: Callable[..., Any] | str,
                 schema: Sequence[str] | Mapping[str, str], description: str = "",
                 owner: str = "") -> None:
        check_name("on-demand feature view", name)
        if isinstance(sources, str):
            sources = [sources]
        checked = tuple(_source(name, s) for s in sources or ())
        if not checked:
            raise InvalidArgument(f"on-demand feature view {name!r} has no sources",
                                  "list the features (view:feature) and request fields it reads")
        known: Callable[..., Any] | None
        if callable(func):
            path, known = f"{func.__module__}:{func.__qualname__}", func
            _DEFINED[path] = func
        elif isinstance(func, str) and ":" in func:
            path, known = func, _DEFINED.get(func)
        else:
            raise InvalidArgument(f"on-demand feature view {name!r} has no function",
                                  "give func=a Python function (or 'module:function')")
        values = {"name": name, "sources": checked, "features": _features(name, schema),
                  "function": path, "description": description, "owner": owner, "func": known}
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def feature_refs(self) -> list[str]:
        return [s for s in self.sources if ":" in s]

    @property
    def request_fields(self) -> list[str]:
        return [s for s in self.sources if ":" not in s]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "name": self.name, "sources": list(self.sources),
                "features": {f.name: f.type for f in self.features}, "function": self.function,
                "description": self.description, "owner": self.owner}

    def digest_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)

    def resolved(self) -> Callable[..., Any]:
        """The function (imported from ``module:qualname`` when this process lacks it)."""
        if self.func is not None:
            return self.func
        module, _, qualname = self.function.partition(":")
        try:
            found: Any = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as exc:
            raise InvalidState(
                f"the function {self.function} of on-demand feature view {self.name!r} "
                f"cannot be imported here: {exc}",
                "define it in a module this process can import (not in a script or "
                "notebook), and apply the view again") from exc
        object.__setattr__(self, "func", found)
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OnDemandFeatureView:
        return cls(data["name"], data["sources"], data["function"], data["features"],
                   data.get("description", ""), data.get("owner", ""))


def _source(view: str, source: Any) -> str:
    text = str(source).strip()
    name, sep, feature = text.partition(":")
    if sep:
        check_name("feature view", name)
        check_name("feature", feature)
    else:
        check_name(f"request field of on-demand view {view!r}", text)
    return text


def expand_refs(features: Sequence[str] | str, on_demand: Mapping[str, OnDemandFeatureView]
                ) -> tuple[list[str], list[OnDemandFeatureView], list[str]]:
    """(the stored features to read - those asked for and those the on-demand views read -,
    the on-demand views asked for, the request fields they need)."""
    if isinstance(features, str):
        features = [features]
    stored: list[str] = []
    views: list[OnDemandFeatureView] = []
    for ref in features:
        view = on_demand.get(str(ref).partition(":")[0])
        if view is None:
            stored.append(ref)
            continue
        feature = str(ref).partition(":")[2]
        if feature not in view.feature_names:
            raise InvalidArgument(f"feature {ref} does not exist",
                                  f"{view.name} computes {', '.join(view.feature_names)}")
        if view not in views:
            views.append(view)
    for view in views:
        stored += [r for r in view.feature_refs if r not in stored]
    fields = list(dict.fromkeys(f for v in views for f in v.request_fields))
    return stored, views, fields


def asked_on_demand(features: Sequence[str] | str,
                    on_demand: Sequence[OnDemandFeatureView]) -> list[str]:
    """The on-demand features asked for, in the order asked."""
    names = {v.name for v in on_demand}
    refs = [features] if isinstance(features, str) else list(features)
    return list(dict.fromkeys(str(r).partition(":")[2] for r in refs
                              if str(r).partition(":")[0] in names))


def compute_on_demand(views: Sequence[OnDemandFeatureView], columns: Mapping[str, Sequence[Any]],
                      rows: int) -> dict[str, list[Any]]:
    """Each on-demand view's features for ``rows`` rows, from ``columns`` (request fields
    and stored features by their bare names)."""
    import pandas as pd

    out: dict[str, list[Any]] = {}
    for view in views:
        needed = [s.partition(":")[2] or s for s in view.sources]
        missing = [n for n in needed if n not in columns]
        if missing:
            raise InvalidArgument(
                f"on-demand feature view {view.name!r} needs {', '.join(missing)}",
                "give the request fields it reads with each row")
        frame = pd.DataFrame({n: list(columns[n]) for n in needed}, index=range(rows))
        try:
            result = view.resolved()(frame)
        except (InvalidArgument, InvalidState):
            raise
        except Exception as exc:
            raise ModelFailed(f"on-demand feature view {view.name!r} failed: "
                              f"{type(exc).__name__}: {exc}") from exc
        for name in view.feature_names:
            if name not in result:
                raise ModelFailed(f"on-demand feature view {view.name!r} returned no column "
                                  f"{name!r}", "return every column of its schema")
            values = list(result[name])
            if len(values) != rows:
                raise ModelFailed(f"on-demand feature view {view.name!r} returned "
                                  f"{len(values)} rows for {rows}")
            out[name] = values
    return out
