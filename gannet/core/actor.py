"""Who a request acts for, when a server acts for many people in one process.

Embedded, the one who acts is the operating system's user (``gannet.auth.identity``). The
team server authenticates each request and runs it inside ``acting_as(actor)``: services
below (the audit log, a run's user, an alias's mover) ask ``current_actor()`` rather than
taking the user as an argument through every call. A context variable, not a global, so
concurrent requests (threads or tasks) each see their own.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Actor", "acting_as", "current_actor"]


@dataclass(frozen=True)
class Actor:
    """An authenticated caller: ``user`` (the name in the audit log), from ``address``
    (the client's IP, for the audit log), ``via`` how it proved it (token, password, oidc,
    or none when the server runs without auth)."""

    user: str
    address: str | None = None
    via: str = "token"


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
