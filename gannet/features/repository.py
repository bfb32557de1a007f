"""The feature store's metadata SQL: definitions and materializations. Every function
takes an open connection."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.features.tables import feature_definitions as defs
from gannet.features.tables import feature_materializations as mats


def latest_definitions(conn: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    """The newest version of each definition (of one kind, or all), by name."""
    newest = (sa.select(defs.c.kind, defs.c.name, sa.func.max(defs.c.version).label("v"))
              .group_by(defs.c.kind, defs.c.name).subquery())
    query = sa.select(defs).join(
        newest, sa.and_(defs.c.kind == newest.c.kind, defs.c.name == newest.c.name,
                        defs.c.version == newest.c.v))
    if kind is not None:
        query = query.where(defs.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(query.order_by(defs.c.kind, defs.c.name))]


def definition_versions(conn: Connection, kind: str, name: str) -> list[dict[str, Any]]:
    query = (sa.select(defs).where(defs.c.kind == kind, defs.c.name == name)
             .order_by(defs.c.version.desc()))
    return [dict(r._mapping) for r in conn.execute(query)]


def insert_definition(conn: Connection, *, kind: str, name: str, version: int,
                      definition: str, digest: str, created_time: int) -> None:
    conn.execute(defs.insert().values(kind=kind, name=name, version=version,
                                      definition=definition, digest=digest,
                                      created_time=created_time))


def materializations(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r.view: dict(r._mapping) for r in conn.execute(sa.select(mats))}


def save_materialization(conn: Connection, *, view: str, materialized_until: int,
                         newest_event_time: int | None, rows: int, finished_time: int) -> None:
    values = {"materialized_until": materialized_until, "newest_event_time": newest_event_time,
              "rows": rows, "finished_time": finished_time}
    done = conn.execute(mats.update().where(mats.c.view == view).values(**values))
    if not done.rowcount:
        conn.execute(mats.insert().values(view=view, **values))
