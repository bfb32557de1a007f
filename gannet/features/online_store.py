"""Online retrieval: the online store named by the settings, and reads of many entities.

An entity's key in the online store is its join-key values joined by ``|`` (``42``,
``42|DE``); the value is ``orjson`` of ``[event time (epoch us), feature values...]`` in
the view's feature order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson

from gannet.core.errors import InvalidArgument
from gannet.core.settings import Settings
from gannet.features.outputs import ROWS, check_output
from gannet.features.refs import join_keys
from gannet.features.types import Entity, FeatureView


class OnlineStore(Protocol):
    def describe(self) -> str: ...

    def write(self, view: str, keys: Sequence[str], times: Sequence[int],
              payloads: Sequence[bytes]) -> None: ...

    def read(self, view: str, keys: Sequence[str]) -> dict[str, bytes]: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


def open_online_store(settings: Settings) -> OnlineStore:
    url = settings.features_online_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        import hashlib

        from gannet.features.online_redis import RedisOnlineStore

        # the namespace: which metadata store's feature views these values belong to
        namespace = hashlib.sha256(settings.metadata_url.encode()).hexdigest()[:12]
        return RedisOnlineStore(url, namespace)
    from pathlib import Path

    from gannet.features.online_repository import SqliteOnlineStore

    if url and not url.startswith("sqlite:///"):
        raise InvalidArgument(f"features_online_url {url!r} is not understood",
                              "use redis://host:6379/0, sqlite:///path, or leave it empty")
    path = Path(url.removeprefix("sqlite:///")) if url else settings.home / "features" / "online.db"
    return SqliteOnlineStore(path)


def entity_key(values: Sequence[Any]) -> str:
    return "|".join(str(v) for v in values)


def entity_columns(entity_rows: Any) -> dict[str, list[Any]]:
    if isinstance(entity_rows, Mapping):
        return {k: list(v) if isinstance(v, (list, tuple)) else [v]
                for k, v in entity_rows.items()}
    if isinstance(entity_rows, list):
        names: dict[str, None] = {}
        for row in entity_rows:
            names.update(dict.fromkeys(row))
        return {n: [row.get(n) for row in entity_rows] for n in names}
    if hasattr(entity_rows, "to_dict") and hasattr(entity_rows, "columns"):  # pandas
        return {str(k): list(v) for k, v in entity_rows.to_dict("list").items()}
    if hasattr(entity_rows, "to_dict"):  # polars / arrow
        return {str(k): list(v) for k, v in entity_rows.to_dict(as_series=False).items()} \
            if hasattr(entity_rows, "to_arrow") else entity_rows.to_pydict()
    raise InvalidArgument(f"entity_rows is a {type(entity_rows).__name__}",
                          "give a list of dicts, a dict of lists, or a DataFrame")


def read_online(store: OnlineStore, wanted: Mapping[str, list[str]],
                views: Mapping[str, FeatureView], entities: Mapping[str, Entity],
                entity_rows: Any, output: str = "pandas") -> Any:
    """One row per entity row: its join keys, then each wanted feature (None when the
    store has no value, or the value is older than the view's ttl)."""
    check_output(output, ROWS)
    columns = entity_columns(entity_rows)
    n = len(next(iter(columns.values()))) if columns else 0
    result: dict[str, list[Any]] = dict(columns)
    from gannet.core.clock import now_ms

    now_us = now_ms() * 1000
    for view_name, features in wanted.items():
        view = views[view_name]
        keys = join_keys(view, entities)
        missing = [k for k in keys if k not in columns]
        if missing:
            raise InvalidArgument(
                f"entity_rows lack the join key {', '.join(missing)} of feature view "
                f"{view_name!r}", f"give {', '.join(keys)} for each row")
        row_keys = [entity_key(vals) for vals in zip(*(columns[k] for k in keys), strict=True)]
        found = store.read(view_name, row_keys)
        positions = [view.feature_names.index(f) + 1 for f in features]
        cutoff = now_us - view.ttl * 1_000_000 if view.ttl else None
        decoded = {k: orjson.loads(v) for k, v in found.items()}
        if cutoff is not None:
            decoded = {k: v for k, v in decoded.items() if v[0] >= cutoff}
        for feature, pos in zip(features, positions, strict=True):
            name = feature if feature not in result else f"{view_name}__{feature}"
            result[name] = [None if (p := decoded.get(k)) is None else p[pos] for k in row_keys]
    if output == "dict":
        return result
    import pandas as pd

    return pd.DataFrame(result, index=range(n))
