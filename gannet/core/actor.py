"""Who a request acts for, and what they may do, when a server acts for many people.

Embedded, the one who acts is the operating system's user (``gannet.auth.identity``) and
nothing is checked: there is no actor. The team server authenticates each request and runs
it inside ``acting_as(actor)``: services below (the audit log, a run's user, an alias's
mover, every permission check) ask ``current_actor()`` rather than taking the user as an
argument through every call. A context variable, not a global, so concurrent requests
(threads or tasks) each see their own.

The actor carries its permissions (``admin``, and a role per project), filled once when
the request is authenticated, so a check costs no query: ``require`` (may the caller do
this in that project?) and ``visible_projects`` (which projects may a listing show?).
Whoever makes an actor (a token, a password, an OpenID Connect login mapping its groups
to roles) fills the same two fields; the checks do not care how it proved itself.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied

__all__ = [
    "DEFAULT_PROJECT",
    "EDITOR",
    "OWNER",
    "READER",
    "ROLES",
    "Actor",
    "acting_as",
    "check_role",
    "choose_project",
    "current_actor",
    "require",
    "require_anywhere",
    "restricted",
    "visible_projects",
]

READER, EDITOR, OWNER = "reader", "editor", "owner"
ROLES = (READER, EDITOR, OWNER)  # each may do what the ones before it may
_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class Actor:
    """An authenticated caller: ``user`` (the name in the audit log), from ``address``
    (the client's IP, for the audit log), ``via`` how it proved it (token, password, oidc,
    or none when the server runs without auth); ``admin`` may do anything, else ``roles``
    says the caller's role in each project it is a member of (project -> role)."""

    user: str
    address: str | None = None
    via: str = "token"
    admin: bool = False
    roles: Mapping[str, str] = field(default_factory=dict, hash=False)

    def role_in(self, project: str) -> str | None:
        """The caller's role in ``project`` (None: not a member)."""
        return self.roles.get(project)


_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("gannet_actor", default=None)


def current_actor() -> Actor | None:
    """The caller this code runs for, or None outside a server request (embedded use)."""
    return _ACTOR.get()


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Run the block for ``actor`` (None: for nobody in particular, as embedded)."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def restricted() -> Actor | None:
    """The caller when its permissions must be checked: None embedded and for admins (a
    service skips the lookup of a thing's project then, so embedded use pays nothing)."""
    actor = _ACTOR.get()
    return None if actor is None or actor.admin else actor


def check_role(role: str) -> str:
    """``role`` when it is one of ``ROLES``, else a precise error."""
    if role not in _RANK:
        raise InvalidArgument(f"unknown role {role!r}", f"use one of {', '.join(ROLES)}")
    return role


def require(project: str, role: str, what: str, missing: NotFound) -> None:
    """Allow the caller to ``what`` (e.g. "log to run 3fa1...") in ``project`` only with at
    least ``role`` there. Embedded (no actor) and admins may do anything. A member whose
    role is too low gets ``PermissionDenied``; someone who is no member gets ``missing``,
    the very error the service raises for a thing that does not exist, so that what other
    projects hold is never revealed, not even its names."""
    actor = restricted()
    if actor is None:
        return
    held = actor.role_in(project)
    if held is None:
        raise missing
    if _RANK.get(held, 0) < _RANK[role]:
        raise PermissionDenied(
            f"{actor.user} may not {what}: that needs the {role} role in project "
            f"{project!r}, and {actor.user} is a {held} there",
            f"ask an owner of {project!r} (or an admin) to make you {_article(role)} {role}: "
            f"gannet projects add-member {project} {actor.user} --role {role}",
        )


def require_anywhere(role: str, what: str) -> None:
    """Allow the caller to ``what`` only with at least ``role`` in some project: for what
    belongs to no project until it is used (a blob sent before the files naming it)."""
    actor = restricted()
    if actor is None or any(_RANK.get(held, 0) >= _RANK[role] for held in actor.roles.values()):
        return
    raise PermissionDenied(
        f"{actor.user} may not {what}: that needs the {role} role in some project",
        f"ask an owner of a project (or an admin) to make you {_article(role)} {role}")


def choose_project(project: str | None, configured: str = "") -> str:
    """The project a new thing goes to: the argument, else the ``project`` setting
    (``configured``), else ``"default"``."""
    chosen = project if project is not None else (configured or DEFAULT_PROJECT)
    if not isinstance(chosen, str) or not chosen.strip() or len(chosen) > 100:
        raise InvalidArgument(
            f"a project must be a non-empty name of at most 100 characters, got {chosen!r}",
            "name an existing project (gannet projects list), or leave it out for "
            f"{DEFAULT_PROJECT!r}",
        )
    return chosen.strip()


def visible_projects() -> frozenset[str] | None:
    """The projects whose things the caller may see (None: all of them, embedded or as
    an admin); listings and searches filter by it in their queries."""
    actor = restricted()
    return None if actor is None else frozenset(actor.roles)


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"
