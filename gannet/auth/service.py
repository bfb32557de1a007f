"""Roles and the audit log.

The audit log is append-only: every change that matters to production (an alias moved,
a version approved or archived, a role granted) writes one row in the same transaction
as the change itself, so the record and the change cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.auth.tables import audit_log, user_roles
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings
from gannet.store.metadata import MetadataStore, dialect


@dataclass(frozen=True)
class AuditEntry:
    time: int
    user_id: str
    action: str
    target: str
    detail: dict[str, Any]


class AuthService:
    def __init__(self, metadata: MetadataStore, settings: Settings) -> None:
        self.metadata = metadata
        self.settings = settings

    @property
    def current_user(self) -> str:
        return self.settings.user

    def grant(self, user_id: str, role: str) -> None:
        role = _check_name(role, "role")
        user_id = _check_name(user_id, "user")
        with self.metadata.write() as conn:
            stmt = dialect.insert(conn, user_roles).on_conflict_do_nothing(
                index_elements=["user_id", "role"]
            )
            conn.execute(
                stmt.values(
                    user_id=user_id,
                    role=role,
                    granted_by=self.current_user,
                    granted_time=now_ms(),
                )
            )
            self.record(conn, "role.grant", f"user:{user_id}", {"role": role})

    def revoke(self, user_id: str, role: str) -> None:
        with self.metadata.write() as conn:
            done = conn.execute(
                user_roles.delete().where(
                    user_roles.c.user_id == user_id, user_roles.c.role == role
                )
            )
            if done.rowcount == 0:
                raise NotFound(
                    f"user {user_id!r} does not have the role {role!r}", "nothing to revoke"
                )
            self.record(conn, "role.revoke", f"user:{user_id}", {"role": role})

    def roles_of(self, user_id: str, conn: Connection | None = None) -> set[str]:
        stmt = sa.select(user_roles.c.role).where(user_roles.c.user_id == user_id)
        if conn is not None:
            return set(conn.execute(stmt).scalars())
        with self.metadata.read() as c:
            return set(c.execute(stmt).scalars())

    def role_holders(self) -> dict[str, list[str]]:
        with self.metadata.read() as conn:
            rows = conn.execute(sa.select(user_roles.c.user_id, user_roles.c.role)).all()
        result: dict[str, list[str]] = {}
        for user, role in sorted(rows):
            result.setdefault(user, []).append(role)
        return result

    def record(
        self, conn: Connection, action: str, target: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append an audit entry inside the caller's transaction."""
        conn.execute(
            audit_log.insert().values(
                time=now_ms(),
                user_id=self.current_user,
                action=action,
                target=target,
                detail=json.dumps(detail or {}, sort_keys=True, default=str),
            )
        )

    def entries(self, target_prefix: str = "", limit: int = 100) -> list[AuditEntry]:
        """Newest first; ``target_prefix`` narrows to e.g. ``model:churn``."""
        stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if target_prefix:
            stmt = stmt.where(
                sa.func.substr(audit_log.c.target, 1, len(target_prefix)) == target_prefix
            )
        with self.metadata.read() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            AuditEntry(r["time"], r["user_id"], r["action"], r["target"], json.loads(r["detail"]))
            for r in rows
        ]


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidArgument(f"{what} must be a non-empty name, got {value!r}", f"name the {what}")
    return value.strip()
