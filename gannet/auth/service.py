"""``AuthService``: users, API tokens, projects and roles, authentication, the audit log.

One facade over the parts, each in its own module: ``users`` (people, passwords, the
first administrator), ``tokens`` (API tokens and ``authenticate``), ``projects`` (projects
and their members), the roles below, and ``base`` (who acts, the audit log).

Roles held across the whole store (``user_roles``): ``admin`` is the administrator flag of
a team server; other roles are what approval gates ask for. Embedded, who acts is the
operating system's user (``gannet.auth.identity``); the ``user`` setting (``GANNET_USER``)
only labels runs, and an audit entry written while it says something else records both
(``"as"`` in the detail). Embedded mode is not a security boundary (docs/security.md):
anyone who can write the home can change it. What the roles protect there is people from
mistakes: granting and revoking roles needs the ``admin`` role, which the home's creator
(the owner of its SQLite file; on PostgreSQL, whoever changes roles first) gets the first
time roles change.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from gannet.auth import repository
from gannet.auth.base import ADMIN, MAX_AUDIT_ENTRIES
from gannet.auth.identity import owner_of
from gannet.auth.projects import Holdings, ProjectUseCases
from gannet.auth.ratelimit import FailureLimiter
from gannet.auth.tokens import TokenUseCases
from gannet.auth.types import AuditEntry
from gannet.auth.users import UserUseCases
from gannet.core.actor import current_actor
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied
from gannet.core.settings import Settings
from gannet.store.metadata import MetadataStore

__all__ = ["ADMIN", "MAX_AUDIT_ENTRIES", "AuditEntry", "AuthService"]


class AuthService(UserUseCases, TokenUseCases, ProjectUseCases):
    def __init__(self, metadata: MetadataStore, settings: Settings, *,
                 holdings: Holdings | None = None) -> None:
        """``holdings(project)`` says what a project still owns (the composition root
        asks the services that own things), so that only an empty one is deleted."""
        super().__init__(metadata, settings)
        self.holdings = holdings
        self.limiter = FailureLimiter()

    def entries_for(self, target_prefix: str, limit: int = 100) -> list[AuditEntry]:
        """The audit entries of one thing, for a service that has checked already that
        the caller may see it (a model card's history)."""
        with self.metadata.read() as conn:
            return repository.audit_entries(conn, target_prefix, int(limit))

    # -- roles -------------------------------------------------------------------------

    def grant_role(self, user_id: str, role: str) -> None:
        """Give ``user_id`` the ``role`` (needs the admin role)."""
        role = _check_name(role, "role")
        user_id = _check_name(user_id, "user")
        self._ensure_admin()
        with self.metadata.write() as conn:
            self._require_admin(conn, f"grant the role {role!r}")
            repository.insert_role(conn, user_id, role, self.current_user, now_ms())
            self.record(conn, "role.grant", f"user:{user_id}", {"role": role})

    def revoke_role(self, user_id: str, role: str) -> None:
        """Take ``role`` from ``user_id`` (needs the admin role)."""
        self._ensure_admin()
        with self.metadata.write() as conn:
            self._require_admin(conn, f"revoke the role {role!r}")
            if role == ADMIN and repository.holders_of(conn, ADMIN) == [user_id]:
                raise InvalidArgument(
                    f"{user_id} is the last admin of this home",
                    "grant the admin role to someone else first",
                )
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

    def _ensure_admin(self) -> None:
        """The first change of roles in a home makes its creator the admin (committed on
        its own: it stands whether or not the change it came with is allowed). Embedded
        only: a team server's first administrator is made by ``bootstrap_admin``."""
        if current_actor() is not None:
            return
        with self.metadata.read() as conn:
            if repository.holders_of(conn, ADMIN):
                return
        with self.metadata.write() as conn:
            repository.serialize_admin_bootstrap(conn)
            if repository.holders_of(conn, ADMIN):
                return  # another process made one meanwhile
            creator = self._home_owner() or self.current_user
            repository.insert_role(conn, creator, ADMIN, self.current_user, now_ms())
            self.record(conn, "role.grant", f"user:{creator}", {"role": ADMIN, "creator": True})

    def _require_admin(self, conn: Connection, doing: str) -> None:
        actor = current_actor()
        if actor is not None:  # a team server: the actor knows (and --no-auth is admin)
            self._admin_only(doing)
            return
        user = self.current_user
        if ADMIN not in repository.roles_of(conn, user):
            admins = ", ".join(repository.holders_of(conn, ADMIN))
            raise PermissionDenied(
                f"{user} may not {doing}: that needs the {ADMIN} role (held by {admins})",
                f"ask an admin to do it, or to grant you the role: gannet roles grant {user} "
                f"{ADMIN}",
            )

    def _home_owner(self) -> str | None:
        """Who owns an embedded store's database file: its creator."""
        url = self.metadata.url
        if url.startswith("sqlite:///"):
            return owner_of(url.removeprefix("sqlite:///"))
        return None


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidArgument(f"{what} must be a non-empty name, got {value!r}", f"name the {what}")
    return value.strip()
