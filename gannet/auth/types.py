"""Auth's plain domain types: audit entries, users, API tokens, projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    """One audited change: who did what to which thing, when, and the detail (why, from, to)."""

    time: int
    user_id: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class User:
    """A person (or a machine) of a team server: ``admin`` may do anything, ``projects``
    says their role in each project they are a member of."""

    name: str
    created: int
    disabled: bool = False
    admin: bool = False
    has_password: bool = False
    projects: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiToken:
    """What is known of an API token: never its secret, which is shown once at creation."""

    id: str
    user: str
    name: str
    created: int
    expires: int | None = None  # ms since the epoch; None: never
    revoked: int | None = None
    last_used: int | None = None


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is what the caller sends, and is never shown again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Project:
    """A workspace owning experiments, registered models and deployments; ``members``
    says each member's role (reader | editor | owner)."""

    name: str
    description: str
    created: int
    members: dict[str, str] = field(default_factory=dict)
