"""``RemoteAudit``: the audit log and the caller's name, ``AuthService``'s calls that the
registry and deployment faces use, over ``/api/v1``.

It stands as ``RemoteServices.auth`` for these calls; users, tokens, projects and roles
come with the team server's auth and join it there.
"""

from __future__ import annotations

from gannet.auth.types import AuditEntry
from gannet.core import wire
from gannet.core.settings import Settings
from gannet.remote.transport import Transport

__all__ = ["RemoteAudit"]


class RemoteAudit:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings
        self._user: str | None = None

    @property
    def current_user(self) -> str:
        """Who acts: the caller as the server authenticated them (asked once)."""
        if self._user is None:
            self._user = str(self.transport.call("GET", "/api/v1/whoami")["user"])
        return self._user

    @property
    def claimed_user(self) -> str | None:
        """Never another name than the server's: a remote caller claims nothing."""
        return None

    def search_audit_log(self, target_prefix: str = "", limit: int = 100) -> list[AuditEntry]:
        """Newest first; ``target_prefix`` narrows to e.g. ``model:churn``."""
        found = self.transport.call("GET", "/api/v1/audit",
                                    params={"target": target_prefix, "limit": limit})
        return wire.load(list[AuditEntry], found["entries"])
