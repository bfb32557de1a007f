"""Roles and the audit log.

The audit log is append-only: every change that matters to production (an alias moved,
a version approved or archived, a role granted) writes one row in the same transaction
as the change itself, so the record and the change cannot disagree. Other services pass
their open connection to ``record`` for that reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from gannet.auth import repository
from gannet.auth.types import AuditEntry
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings
from gannet.store.metadata import MetadataStore

__all__ = ["AuditEntry", "AuthService"]

MAX_AUDIT_ENTRIES = 10_000


class AuthService:
    def __init__(self, metadata: MetadataStore, settings: Settings) -> None:
        self.metadata = metadata
        self.settings = settings

    @property
    def current_user(self) -> str:
        return self.settings.user

    def grant_role(self, user_id: str, role: str) -> None:
        role = _check_name(role, "role")
        user_id = _check_name(user_id, "user")
        with self.metadata.write() as conn:
            repository.insert_role(conn, user_id, role, self.current_user, now_ms())
            self.record(conn, "role.grant", f"user:{user_id}", {"role": role})

    def revoke_role(self, user_id: str, role: str) -> None:
        with self.metadata.write() as conn:
            if not repository.delete_role(conn, user_id, role):
                raise NotFound(
                    f"user {user_id!r} does not have the role {role!r}",
                    "see who holds which role: gannet roles list",
                )
            self.record(conn, "role.revoke", f"user:{user_id}", {"role": role})

    def list_roles(self) -> dict[str, list[str]]:
        """Every user holding a role, with their roles (both sorted)."""
        with self.metadata.read() as conn:
            rows = repository.role_rows(conn)
        result: dict[str, list[str]] = {}
        for user, role in rows:
            result.setdefault(user, []).append(role)
        return result

    def roles_of(self, user_id: str, conn: Connection | None = None) -> set[str]:
        """The roles ``user_id`` holds (inside the caller's transaction when ``conn`` given)."""
        if conn is not None:
            return repository.roles_of(conn, user_id)
        with self.metadata.read() as c:
            return repository.roles_of(c, user_id)

    def record(
        self, conn: Connection, action: str, target: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append an audit entry inside the caller's transaction."""
        repository.insert_audit_entry(
            conn, now_ms(), self.current_user, action, target, detail or {}
        )

    def search_audit_log(self, target_prefix: str = "", limit: int = 100) -> list[AuditEntry]:
        """Newest first; ``target_prefix`` narrows to e.g. ``model:churn``."""
        if not 1 <= int(limit) <= MAX_AUDIT_ENTRIES:
            raise InvalidArgument(
                f"limit must be between 1 and {MAX_AUDIT_ENTRIES}, got {limit}",
                "narrow the entries by target instead",
            )
        with self.metadata.read() as conn:
            return repository.audit_entries(conn, target_prefix, int(limit))


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidArgument(f"{what} must be a non-empty name, got {value!r}", f"name the {what}")
    return value.strip()
