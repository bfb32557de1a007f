"""Tracking's SQL for the batches remote clients wrote (``written_batches``): claim a
batch id inside the transaction that writes the batch, so a retry of it finds the claim
and the first answer. Rows in, plain values out; every function takes an open connection."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.metadata import dialect
from gannet.tracking.tables import written_batches


def claim_batch(conn: Connection, batch_id: str, now: int) -> str | None:
    """Record ``batch_id`` as written by this transaction; when it was written before,
    return that first write's report instead (and record nothing).

    Insert-if-absent: a concurrent transaction claiming the same id waits for this one
    (PostgreSQL's unique index; SQLite has one writer) and then finds the claim.
    """
    stmt = dialect.insert(conn, written_batches).on_conflict_do_nothing(
        index_elements=["batch_id"]).returning(written_batches.c.batch_id)
    values = {"batch_id": batch_id, "created_time": now, "report": ""}
    if conn.execute(stmt, values).first() is not None:  # (rowcount: -1 on psycopg here)
        return None
    found = conn.execute(
        sa.select(written_batches.c.report).where(written_batches.c.batch_id == batch_id)
    ).scalar()
    return found or ""


def record_report(conn: Connection, batch_id: str, report: str) -> None:
    """Keep the answer given to ``batch_id`` (JSON), for a retry of it."""
    conn.execute(
        written_batches.update()
        .where(written_batches.c.batch_id == batch_id)
        .values(report=report)
    )


def prune_batches(conn: Connection, before_ms: int) -> int:
    """Forget batches claimed before ``before_ms``; returns how many."""
    result = conn.execute(
        written_batches.delete().where(written_batches.c.created_time < before_ms))
    return max(0, int(result.rowcount or 0))
