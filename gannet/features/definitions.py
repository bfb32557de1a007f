"""Definitions from YAML, and what changes between two versions of one.

YAML: a mapping with ``entities:``, ``feature_views:`` and ``on_demand_views:`` lists (each
item the keyword arguments of ``Entity`` / ``FeatureView`` / ``OnDemandFeatureView``, the
function as ``module:function``), or a list of items each with ``kind``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gannet.core.errors import InvalidArgument, NotFound
from gannet.features.on_demand import KIND as ON_DEMAND
from gannet.features.on_demand import OnDemandFeatureView
from gannet.features.types import Entity, FeatureView, definition_from_dict

Definition = Entity | FeatureView | OnDemandFeatureView


def definition_from_mapping(data: Mapping[str, Any]) -> Definition:
    """Any definition from its mapping (YAML or stored JSON)."""
    if data.get("kind") != ON_DEMAND:
        return definition_from_dict(data)
    body = {k: v for k, v in data.items() if k != "kind"}
    try:
        return OnDemandFeatureView(**{"func": body.pop("function", None),
                                      "schema": body.pop("features", None), **body})
    except TypeError as exc:
        raise InvalidArgument(f"definition {data.get('name')!r}: {exc}",
                              "see docs/features.md for the fields") from exc


def load_definitions(source: Any) -> list[Definition]:
    """Definitions from a YAML file path, YAML text, mappings or definition objects."""
    if isinstance(source, (Entity, FeatureView, OnDemandFeatureView)):
        return [source]
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and source.endswith((".yaml", ".yml"))):
        path = Path(source).expanduser()
        if not path.is_file():
            raise NotFound(f"no definitions file at {source}", "give the path of a YAML file")
        return load_definitions(path.read_text())
    if isinstance(source, str):
        import yaml

        try:
            data = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"the definitions are not valid YAML: {exc}",
                                  "fix the YAML (see docs/features.md)") from exc
        return _from_data(data)
    if isinstance(source, Iterable):
        out: list[Definition] = []
        for item in source:
            out += load_definitions(item) if not isinstance(item, Mapping) else _from_data([item])
        return out
    raise InvalidArgument(f"definitions of type {type(source).__name__} are not understood",
                          "give Entity/FeatureView/OnDemandFeatureView objects, a YAML file "
                          "or YAML text")


def _from_data(data: Any) -> list[Definition]:
    if isinstance(data, Mapping) and {"entities", "feature_views", "on_demand_views"} & set(data):
        items = [{"kind": "entity", **e} for e in data.get("entities") or []]
        items += [{"kind": "feature_view", **v} for v in data.get("feature_views") or []]
        items += [{"kind": ON_DEMAND, **v} for v in data.get("on_demand_views") or []]
        data = items
    if not isinstance(data, list) or not all(isinstance(i, Mapping) for i in data):
        raise InvalidArgument("the definitions are neither a list nor a mapping with "
                              "entities/feature_views", "see docs/features.md for the layout")
    return [definition_from_mapping(item) for item in data]


@dataclass(frozen=True)
class Change:
    """What applying one definition does: created, updated (a new version) or unchanged;
    ``breaking`` lists the changes that can break a model trained on the old version, and
    ``affects`` the registered model versions and deployments that use the view."""

    kind: str
    name: str
    version: int
    status: str
    changes: Sequence[str] = field(default_factory=tuple)
    breaking: Sequence[str] = field(default_factory=tuple)
    affects: Sequence[str] = field(default_factory=tuple)  # with ``breaking``: the model
    # versions and deployments that use the view (``churn/3``, ``deployment churn-api``)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "version": self.version,
                "status": self.status, "changes": list(self.changes),
                "breaking": list(self.breaking), "affects": list(self.affects)}


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(changes, breaking changes) from one stored definition to the next."""
    changes: list[str] = []
    breaking: list[str] = []
    if new.get("kind") in ("feature_view", ON_DEMAND):
        old_f, new_f = old.get("features", {}), new.get("features", {})
        for name in old_f:
            if name not in new_f:
                breaking.append(f"feature {name} dropped")
            elif old_f[name] != new_f[name]:
                breaking.append(f"feature {name} retyped {old_f[name]} -> {new_f[name]}")
        changes += [f"feature {n} added ({new_f[n]})" for n in new_f if n not in old_f]
        if old.get("entities") != new.get("entities"):
            breaking.append(f"entities {old.get('entities')} -> {new.get('entities')}")
    elif old.get("join_keys") != new.get("join_keys"):
        breaking.append(f"join keys {old.get('join_keys')} -> {new.get('join_keys')}")
    skip = {"features", "entities", "join_keys"}
    for key in sorted(set(old) | set(new) - skip):
        if key not in skip and old.get(key) != new.get(key):
            changes.append(f"{key} {old.get(key)!r} -> {new.get(key)!r}")
    return changes, breaking
