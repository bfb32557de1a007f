"""Garbage collection's SQL: write leases. Every function takes an open connection."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.gc.tables import blob_writes


def insert_lease(conn: Connection, lease_id: str, now: int) -> None:
    conn.execute(blob_writes.insert().values(lease_id=lease_id, started_time=now))


def delete_lease(conn: Connection, lease_id: str) -> None:
    conn.execute(blob_writes.delete().where(blob_writes.c.lease_id == lease_id))


def block_new_leases(conn: Connection) -> None:
    """Until the transaction ends, writers wait before taking a lease. SQLite's one writer
    lock (``BEGIN IMMEDIATE``) already does it; PostgreSQL needs the table lock, which
    conflicts with INSERT but not with reads."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE blob_writes IN SHARE MODE"))


def hold_off_collection(conn: Connection) -> None:
    """Until the transaction ends, a collection cannot remove blobs: its sweep needs the
    lock this conflicts with (SQLite: its one writer lock, held already; PostgreSQL: the
    table lock the sweep takes in SHARE mode, which ROW EXCLUSIVE blocks)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE blob_writes IN ROW EXCLUSIVE MODE"))


def live_leases(conn: Connection, since: int) -> int:
    """How many leases were taken at or after ``since`` (older ones belong to dead writers)."""
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(blob_writes).where(
                blob_writes.c.started_time >= since
            )
        ).scalar_one()
    )


def delete_stale_leases(conn: Connection, before: int) -> int:
    done = conn.execute(blob_writes.delete().where(blob_writes.c.started_time < before))
    return int(done.rowcount or 0)
