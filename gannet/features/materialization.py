"""Materialization: each view's newest value per entity, with a timestamp in (start, end],
loaded into the online store. Without a start it goes on from where the view's last
materialization ended (incremental); without an end, up to now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.features import offline_repository as repo
from gannet.features.online_store import OnlineStore, entity_key
from gannet.features.refs import join_keys
from gannet.features.schema_check import check_unchanged, source_schema
from gannet.features.types import Entity, FeatureView


@dataclass(frozen=True)
class Materialization:
    view: str
    after_us: int | None  # None: from the beginning
    until_us: int
    rows: int  # entities whose values were written
    newest_us: int | None  # the newest event time now in the online store

    def to_dict(self) -> dict[str, Any]:
        return {"view": self.view, "start": _iso(self.after_us), "end": _iso(self.until_us),
                "rows": self.rows, "newest": _iso(self.newest_us)}


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat()


def to_epoch_us(value: Any, what: str) -> int:
    """Epoch microseconds of a datetime, pandas Timestamp or ISO text (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidArgument(f"{what} {value!r} is not a time",
                                  "give an ISO time such as 2026-01-31T12:00:00Z") from exc
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{what} {value!r} is not a time", "give a datetime or ISO text")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1_000_000)


def materialize(views: Sequence[FeatureView], entities: Mapping[str, Entity],
                relations: Mapping[str, str], store: OnlineStore,
                done: Mapping[str, Mapping[str, Any]], start: Any,
                end: Any) -> list[Materialization]:
    until = to_epoch_us(end, "end") if end is not None else now_ms() * 1000
    explicit = to_epoch_us(start, "start") if start is not None else None
    if explicit is not None and explicit >= until:
        raise InvalidArgument("start is not before end", "give a start earlier than the end")
    results = []
    con = repo.connect()
    try:
        for view in views:
            previous = done.get(view.name) or {}
            after = explicit if start is not None else previous.get("materialized_until")
            keys = join_keys(view, entities)
            check_unchanged(view, keys, source_schema(con, view, relations[view.name]))
            table = repo.latest_rows(con, relations[view.name], keys,
                                     view.timestamp_field, view.feature_names, after, until)
            newest = _write(store, view.name, table, len(keys))
            old_newest = previous.get("newest_event_time")
            if old_newest is not None and (newest is None or old_newest > newest):
                newest = int(old_newest)
            results.append(Materialization(view.name, after, until, table.num_rows, newest))
    finally:
        con.close()
    return results


def _write(store: OnlineStore, view: str, table: Any, n_keys: int) -> int | None:
    """Write an Arrow table (keys, __ts, features) to the online store; its newest time."""
    if table.num_rows == 0:
        return None
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    keys = [entity_key(k) for k in zip(*columns[:n_keys], strict=True)]
    times = columns[n_keys]
    payloads = [orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY)
                for row in zip(*columns[n_keys:], strict=True)]
    store.write(view, keys, times, payloads)
    return int(max(times))
