"""Auth's SQL: rows in, plain types out. Every function takes an open connection."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.auth.tables import MANUAL, audit_log, user_roles
from gannet.auth.types import AuditEntry
from gannet.store.metadata import dialect


def insert_role(conn: Connection, user_id: str, role: str, granted_by: str, now: int,
                source: str = MANUAL) -> None:
    """Give ``user_id`` the ``role`` (if they hold it already, a grant by hand makes it
    theirs for good: single sign-on no longer takes it away; a grant by SSO changes
    nothing)."""
    stmt = dialect.insert(conn, user_roles).values(
        user_id=user_id, role=role, granted_by=granted_by, granted_time=now, source=source)
    if source == MANUAL:
        conn.execute(stmt.on_conflict_do_update(index_elements=["user_id", "role"],
                                                set_={"source": MANUAL}))
    else:
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["user_id", "role"]))


def delete_role(conn: Connection, user_id: str, role: str) -> bool:
    """Take ``role`` from ``user_id``; False when they did not hold it."""
    done = conn.execute(
        user_roles.delete().where(user_roles.c.user_id == user_id, user_roles.c.role == role)
    )
    return done.rowcount > 0


def roles_of(conn: Connection, user_id: str) -> set[str]:
    return set(
        conn.execute(sa.select(user_roles.c.role).where(user_roles.c.user_id == user_id)).scalars()
    )


def role_rows(conn: Connection) -> list[tuple[str, str]]:
    """Every (user, role) pair, sorted."""
    rows = conn.execute(sa.select(user_roles.c.user_id, user_roles.c.role)).all()
    return sorted((user, role) for user, role in rows)


def insert_audit_entry(
    conn: Connection, now: int, user_id: str, action: str, target: str, detail: dict[str, Any]
) -> None:
    conn.execute(
        audit_log.insert().values(
            time=now,
            user_id=user_id,
            action=action,
            target=target,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )


def audit_entries(conn: Connection, target_prefix: str, limit: int) -> list[AuditEntry]:
    """Newest first; ``target_prefix`` ('' for all) narrows by the start of the target."""
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if target_prefix:
        stmt = stmt.where(
            sa.func.substr(audit_log.c.target, 1, len(target_prefix)) == target_prefix
        )
    return [
        AuditEntry(r["time"], r["user_id"], r["action"], r["target"], json.loads(r["detail"]))
        for r in conn.execute(stmt).mappings()
    ]


def holders_of(conn: Connection, role: str) -> list[str]:
    return sorted(
        conn.execute(sa.select(user_roles.c.user_id).where(user_roles.c.role == role)).scalars()
    )


def serialize_admin_bootstrap(conn: Connection) -> None:
    """Two processes making the first admin at once make one (SQLite's writer lock already
    serialises them; PostgreSQL needs a lock, as no row exists yet to lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727275)"))
