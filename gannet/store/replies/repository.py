"""The replies' SQL. Rows in, plain values out; every function takes an open connection."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.metadata import dialect
from gannet.store.replies.tables import request_replies
from gannet.store.replies.types import Reply


def claim(conn: Connection, key: str, fingerprint: str, now: int) -> Reply | None:
    """Record ``key`` as running; when it was claimed before, return that claim instead."""
    stmt = dialect.insert(conn, request_replies).on_conflict_do_nothing(
        index_elements=["reply_key"]).returning(request_replies.c.reply_key)
    values = {"reply_key": key, "fingerprint": fingerprint, "status": 0,
              "content_type": "", "body": b"", "created_time": now}
    if conn.execute(stmt, values).first() is not None:
        return None
    row = conn.execute(
        sa.select(request_replies).where(request_replies.c.reply_key == key)).one()
    return Reply(row.fingerprint, row.status, row.content_type, bytes(row.body),
                 row.created_time)


def take_over(conn: Connection, key: str, started_before: int, now: int) -> bool:
    """Claim ``key`` again when its running attempt started before ``started_before`` (its
    server died while answering); True when this caller now holds it."""
    result = conn.execute(
        request_replies.update()
        .where(request_replies.c.reply_key == key, request_replies.c.status == 0,
               request_replies.c.created_time < started_before)
        .values(created_time=now))
    return bool(result.rowcount)


def keep(conn: Connection, key: str, status: int, content_type: str, body: bytes) -> None:
    conn.execute(
        request_replies.update().where(request_replies.c.reply_key == key)
        .values(status=status, content_type=content_type, body=body))


def release(conn: Connection, key: str) -> None:
    conn.execute(request_replies.delete().where(request_replies.c.reply_key == key))


def prune(conn: Connection, before_ms: int) -> int:
    """Forget replies made before ``before_ms``; returns how many."""
    result = conn.execute(
        request_replies.delete().where(request_replies.c.created_time < before_ms))
    return max(0, int(result.rowcount or 0))
