"""What every part of ``AuthService`` shares: its stores, who acts, the audit log, and the
check that only an administrator (or embedded use) may do something.

Who acts is the operating system's user embedded (``gannet.auth.identity``), the
authenticated caller on the team server (``gannet.core.actor``). The audit log is
append-only: every change that matters (an alias moved, a version approved, a user or
token made, a member added) writes one row in the same transaction as the change itself,
so the record and the change cannot disagree. Other services pass their open connection
to ``record`` for that reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from gannet.auth import repository
from gannet.auth.identity import os_user
from gannet.auth.recent import AUTH_ACTIONS, RecentTokens
from gannet.auth.types import AuditEntry
from gannet.core.actor import current_actor
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, PermissionDenied
from gannet.core.settings import Settings
from gannet.store.metadata import MetadataStore

ADMIN = "admin"
MAX_AUDIT_ENTRIES = 10_000


class AuthBase:
    def __init__(self, metadata: MetadataStore, settings: Settings) -> None:
        self.metadata = metadata
        self.settings = settings
        self._os_user: str | None = None
        self.recent = RecentTokens(settings.auth_cache_seconds)

    @property
    def current_user(self) -> str:
        """Who acts: the server request's authenticated caller, else the operating
        system's user, whatever the ``user`` setting says."""
        actor = current_actor()
        if actor is not None:
            return actor.user
        if self._os_user is None:
            self._os_user = os_user()
        return self._os_user

    @property
    def claimed_user(self) -> str | None:
        """The ``user`` setting when it names someone else than who acts, else None."""
        if current_actor() is not None:
            return None
        claimed = self.settings.user
        return claimed if claimed and claimed != self.current_user else None

    def _admin_only(self, doing: str) -> None:
        """Team mode: only an administrator may ``doing``. Embedded, whoever can write the
        store may (it is not a security boundary there: docs/security.md)."""
        actor = current_actor()
        if actor is not None and not actor.admin:
            raise PermissionDenied(
                f"{actor.user} may not {doing}: that needs an administrator",
                "ask an administrator to do it",
            )

    # -- the audit log -----------------------------------------------------------------

    def record(
        self, conn: Connection, action: str, target: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append an audit entry by who acts, inside the caller's transaction (a change to
        users, tokens, projects or roles also forgets the callers this process knew)."""
        if action.partition(".")[0] in AUTH_ACTIONS:
            self.recent.forget()
        detail = dict(detail or {})
        actor = current_actor()
        if actor is not None and actor.address:
            detail["address"] = actor.address
        if self.claimed_user is not None:
            detail["as"] = self.claimed_user
        repository.insert_audit_entry(conn, now_ms(), self.current_user, action, target, detail)

    def search_audit_log(self, target_prefix: str = "", limit: int = 100) -> list[AuditEntry]:
        """Newest first; ``target_prefix`` narrows to e.g. ``model:churn``. On a team
        server only administrators read it (it names every project's things)."""
        if not 1 <= int(limit) <= MAX_AUDIT_ENTRIES:
            raise InvalidArgument(
                f"limit must be between 1 and {MAX_AUDIT_ENTRIES}, got {limit}",
                "narrow the entries by target instead",
            )
        self._admin_only("read the audit log")
        with self.metadata.read() as conn:
            return repository.audit_entries(conn, target_prefix, int(limit))


def check_name(value: str, what: str, longest: int = 100) -> str:
    """``value`` stripped, when it is a usable name of a user, role or project."""
    if (not isinstance(value, str) or not value.strip() or len(value) > longest
            or any(c in value for c in ":/\\\n\r\t")):
        raise InvalidArgument(
            f"{what} must be a non-empty name of at most {longest} characters without "
            f"':', '/' or '\\', got {value!r}",
            f"name the {what}",
        )
    return value.strip()
