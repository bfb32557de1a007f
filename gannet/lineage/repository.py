"""The lineage graph's SQL. Every function takes an open connection."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.lineage.tables import lineage_edges as e
from gannet.lineage.types import Edge


def has_edge(conn: Connection, edge: Edge) -> bool:
    found = conn.execute(
        sa.select(e.c.edge_id).where(
            e.c.from_kind == edge.from_kind, e.c.from_id == edge.from_id,
            e.c.to_kind == edge.to_kind, e.c.to_id == edge.to_id, e.c.context == edge.context,
        )
    ).first()
    return found is not None


def insert_edge(conn: Connection, edge: Edge) -> None:
    conn.execute(e.insert().values(
        from_kind=edge.from_kind, from_id=edge.from_id, to_kind=edge.to_kind,
        to_id=edge.to_id, context=edge.context, at=edge.at,
    ))


def edges_into(conn: Connection, kind: str, ids: Collection[str]) -> list[Edge]:
    """Edges whose target is one of ``ids`` of ``kind`` (what they used)."""
    rows = conn.execute(
        sa.select(e).where(e.c.to_kind == kind, e.c.to_id.in_(list(ids))).order_by(e.c.edge_id)
    )
    return [_edge(row) for row in rows]


def edges_out_of(conn: Connection, kind: str, ids: Collection[str]) -> list[Edge]:
    """Edges whose source is one of ``ids`` of ``kind`` (who used them)."""
    rows = conn.execute(
        sa.select(e).where(e.c.from_kind == kind, e.c.from_id.in_(list(ids)))
        .order_by(e.c.edge_id)
    )
    return [_edge(row) for row in rows]


def _edge(row: sa.Row) -> Edge:
    return Edge(row.from_kind, row.from_id, row.to_kind, row.to_id, row.context, row.at)
