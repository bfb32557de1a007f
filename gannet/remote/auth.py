"""``RemoteAuth``: ``AuthService``'s calls over ``/api/v1`` (users, tokens, projects,
roles, the audit log), so ``gannet users|tokens|projects|roles|audit`` work against a
team server unchanged."""

from __future__ import annotations

from typing import Any

from gannet.auth.types import ApiToken, AuditEntry, NewToken, Project, User
from gannet.core import wire
from gannet.core.settings import Settings
from gannet.remote.transport import Transport

__all__ = ["RemoteAuth"]


class RemoteAuth:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    def me(self) -> dict[str, Any]:
        """Who the token is, and what they may do."""
        return dict(self.transport.call("GET", "/api/v1/me"))

    @property
    def current_user(self) -> str:
        return str(self.me()["user"])

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, *, password: str | None = None,
                    admin: bool = False) -> User:
        found = self.transport.call("POST", "/api/v1/users",
                                    json={"name": name, "password": password, "admin": admin})
        return wire.load(User, found["user"])

    def get_user(self, name: str) -> User:
        found = self.transport.call("GET", f"/api/v1/users/{_seg(name)}")
        return wire.load(User, found["user"])

    def list_users(self) -> list[User]:
        found = self.transport.call("GET", "/api/v1/users")
        return wire.load(list[User], found["users"])

    def disable_user(self, name: str, *, disabled: bool = True) -> User:
        found = self.transport.call("PATCH", f"/api/v1/users/{_seg(name)}",
                                    json={"disabled": disabled})
        return wire.load(User, found["user"])

    def set_password(self, name: str, password: str | None) -> None:
        self.transport.call("PUT", f"/api/v1/users/{_seg(name)}/password",
                            json={"password": password})

    # -- tokens ------------------------------------------------------------------------------

    def create_token(self, name: str, *, user: str | None = None,
                     expires_in: str | float | None = None) -> NewToken:
        body = {"name": name, "user": user,
                "expires_in": None if expires_in is None else str(expires_in)}
        found = self.transport.call("POST", "/api/v1/tokens", json=body)
        return NewToken(wire.load(ApiToken, found["token"]), str(found["secret"]))

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        params = {"user": user} if user is not None else None
        found = self.transport.call("GET", "/api/v1/tokens", params=params)
        return wire.load(list[ApiToken], found["tokens"])

    def revoke_token(self, token_id: str) -> ApiToken:
        found = self.transport.call("DELETE", f"/api/v1/tokens/{_seg(token_id)}")
        return wire.load(ApiToken, found["token"])

    # -- projects ----------------------------------------------------------------------------

    def create_project(self, name: str, description: str = "") -> Project:
        found = self.transport.call("POST", "/api/v1/projects",
                                    json={"name": name, "description": description})
        return wire.load(Project, found["project"])

    def list_projects(self) -> list[Project]:
        found = self.transport.call("GET", "/api/v1/projects")
        return wire.load(list[Project], found["projects"])

    def get_project(self, name: str) -> Project:
        found = self.transport.call("GET", f"/api/v1/projects/{_seg(name)}")
        return wire.load(Project, found["project"])

    def delete_project(self, name: str) -> None:
        self.transport.call("DELETE", f"/api/v1/projects/{_seg(name)}")

    def add_member(self, project: str, user: str, role: str) -> Project:
        found = self.transport.call(
            "PUT", f"/api/v1/projects/{_seg(project)}/members/{_seg(user)}", json={"role": role})
        return wire.load(Project, found["project"])

    def remove_member(self, project: str, user: str) -> Project:
        found = self.transport.call(
            "DELETE", f"/api/v1/projects/{_seg(project)}/members/{_seg(user)}")
        return wire.load(Project, found["project"])

    # -- roles and the audit log ---------------------------------------------------------------

    def list_roles(self) -> dict[str, list[str]]:
        return dict(self.transport.call("GET", "/api/v1/roles")["roles"])

    def grant_role(self, user_id: str, role: str) -> None:
        self.transport.call("PUT", f"/api/v1/roles/{_seg(role)}/{_seg(user_id)}")

    def revoke_role(self, user_id: str, role: str) -> None:
        self.transport.call("DELETE", f"/api/v1/roles/{_seg(role)}/{_seg(user_id)}")

    def search_audit_log(self, target_prefix: str = "", limit: int = 100) -> list[AuditEntry]:
        found = self.transport.call("GET", "/api/v1/audit",
                                    params={"target": target_prefix, "limit": limit})
        return wire.load(list[AuditEntry], found["entries"])


def _seg(value: str) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="")
