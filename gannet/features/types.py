"""Feature definitions as plain values: ``Entity``, ``FeatureView``, ``Feature``.

A definition is data: it can be compared (``diff``), stored as JSON and read back. Nothing
here touches a store or a source; the service reads types from sources when a view lists
only column names.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from gannet.core.errors import InvalidArgument

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# the type names a feature may have (DuckDB's spelling of the common ones)
TYPES = {
    "float": "DOUBLE", "double": "DOUBLE", "float64": "DOUBLE", "float32": "FLOAT",
    "int": "BIGINT", "int64": "BIGINT", "bigint": "BIGINT", "int32": "INTEGER",
    "integer": "INTEGER", "bool": "BOOLEAN", "boolean": "BOOLEAN", "string": "VARCHAR",
    "str": "VARCHAR", "varchar": "VARCHAR", "timestamp": "TIMESTAMP", "date": "DATE",
}


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidArgument(
            f"{kind} name {name!r} is not valid",
            "use letters, digits and underscores, starting with a letter or underscore",
        )
    return name


def normalise_type(feature: str, type_name: str) -> str:
    """A feature's type in DuckDB's spelling (``float`` -> ``DOUBLE``)."""
    key = str(type_name).strip()
    known = TYPES.get(key.lower())
    if known is not None:
        return known
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_ ,()\[\]]*", key):  # any DuckDB type name
        return key.upper()
    raise InvalidArgument(
        f"feature {feature!r} has an unknown type {type_name!r}",
        f"use one of {', '.join(sorted(set(TYPES)))}",
    )


@dataclass(frozen=True)
class Entity:
    """What features describe (a customer, a driver), identified by its join keys."""

    name: str
    join_keys: tuple[str, ...] = ()
    description: str = ""

    def __init__(self, name: str, join_keys: Sequence[str] | str | None = None,
                 description: str = "") -> None:
        keys = (join_keys,) if isinstance(join_keys, str) else tuple(join_keys or (name,))
        object.__setattr__(self, "name", check_name("entity", name))
        object.__setattr__(self, "join_keys", tuple(check_name("join key", k) for k in keys))
        object.__setattr__(self, "description", description)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "entity", "name": self.name, "join_keys": list(self.join_keys),
                "description": self.description}


@dataclass(frozen=True)
class Feature:
    name: str
    type: str | None = None  # None until read from the source


@dataclass(frozen=True)
class FeatureView:
    """Features of one or more entities, read from ``source`` (a Parquet/CSV path or a
    DuckDB query over such paths) whose time column is ``timestamp_field``. A value is
    valid for ``ttl`` seconds after its timestamp (0: forever)."""

    name: str
    entities: tuple[str, ...]
    source: str
    features: tuple[Feature, ...]
    ttl: int = 0
    owner: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    timestamp_field: str = "event_timestamp"
    description: str = ""

    def __init__(
        self, name: str, entities: Sequence[Entity | str] | Entity | str, source: str,
        features: Sequence[str] | Mapping[str, str], ttl: Any = 0, owner: str = "",
        tags: Mapping[str, str] | None = None, timestamp_field: str = "event_timestamp",
        description: str = "",
    ) -> None:
        if isinstance(entities, (Entity, str)):
            entities = [entities]
        names = tuple(e.name if isinstance(e, Entity) else check_name("entity", e)
                      for e in entities)
        if not names:
            raise InvalidArgument(f"feature view {name!r} names no entity",
                                  "give entities=[Entity(...)] or entity names")
        values = {
            "name": check_name("feature view", name), "entities": names,
            "source": _check_source(name, source), "features": _features(name, features),
            "ttl": parse_ttl(ttl), "owner": owner, "tags": dict(tags or {}),
            "timestamp_field": check_name("timestamp field", timestamp_field),
            "description": description,
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def with_types(self, types: Mapping[str, str]) -> FeatureView:
        typed = tuple(Feature(f.name, f.type or types[f.name]) for f in self.features)
        twin = copy.copy(self)
        object.__setattr__(twin, "features", typed)
        return twin

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "feature_view", "name": self.name, "entities": list(self.entities),
            "source": self.source, "features": {f.name: f.type for f in self.features},
            "ttl": self.ttl, "owner": self.owner, "tags": dict(self.tags),
            "timestamp_field": self.timestamp_field, "description": self.description,
        }

    def digest_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)


def _check_source(view: str, source: Any) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgument(f"feature view {view!r} has no source",
                              "give a Parquet/CSV path or a SQL query over such paths")
    return str(source)


def _features(view: str, features: Sequence[str] | Mapping[str, str]) -> tuple[Feature, ...]:
    if isinstance(features, str):
        features = [features]
    if isinstance(features, Mapping):
        out = tuple(Feature(check_name("feature", k),
                            None if t is None else normalise_type(k, t))
                    for k, t in features.items())
    else:
        out = tuple(Feature(check_name("feature", k)) for k in features)
    if not out:
        raise InvalidArgument(f"feature view {view!r} has no features",
                              "list its feature columns, or map each to its type")
    return out


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_ttl(ttl: Any) -> int:
    """Seconds: an int, a ``timedelta``, or ``90s``/``30m``/``12h``/``30d``/``2w``."""
    if hasattr(ttl, "total_seconds"):
        return int(ttl.total_seconds())
    if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl >= 0:
        return int(ttl)
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", str(ttl))
    if match is None:
        raise InvalidArgument(f"ttl {ttl!r} is not a duration",
                              "give seconds, a timedelta, or e.g. 30m, 12h, 30d, 2w (0: forever)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def definition_from_dict(data: Mapping[str, Any]) -> Entity | FeatureView:
    """An entity or feature view from its mapping (YAML or stored JSON)."""
    kind = data.get("kind")
    body = {k: v for k, v in data.items() if k != "kind"}
    try:
        if kind == "entity":
            return Entity(**body)
        if kind == "feature_view":
            return FeatureView(**body)
    except TypeError as exc:
        raise InvalidArgument(f"definition {data.get('name')!r}: {exc}",
                              "see docs/features.md for the fields") from exc
    raise InvalidArgument(f"definition {data.get('name')!r} has kind {kind!r}",
                          "use kind: entity or kind: feature_view")
