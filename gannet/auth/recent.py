"""Tokens seen in the last seconds: what the team server knows of a caller without asking
the store again.

Every request proves who sends it. With MLflow's client logging one value per request,
reading the token and the roles from the store each time costs more than the write the
request makes, so a token found valid is remembered for ``auth_cache_seconds`` (2 by
default; 0 turns this off). An expiry is checked on every request all the same. A change
to users, tokens, projects or roles made through this process forgets everything at
once; one made by another worker or replica takes effect here within those seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from gannet.core.actor import Actor
from gannet.core.clock import now_ms

__all__ = ["AUTH_ACTIONS", "RecentTokens"]

# The audit actions after which a remembered caller may be wrong.
AUTH_ACTIONS = frozenset({"user", "token", "role", "member", "project"})


@dataclass(frozen=True)
class _Seen:
    actor: Actor
    expires_ms: int | None  # the token's own expiry
    until: float  # monotonic: remembered until then


class RecentTokens:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def get(self, digest: str, user: str | None, address: str | None) -> Actor | None:
        """The caller a token (by digest) proved in the last seconds, as sending from
        ``address``; None when not remembered (or given with another user name)."""
        seen = self._seen.get(digest)
        if seen is None or seen.until < time.monotonic():
            return None
        if seen.expires_ms is not None and seen.expires_ms <= now_ms():
            return None
        if user is not None and user != seen.actor.user:
            return None
        return replace(seen.actor, address=address)

    def put(self, digest: str, actor: Actor, expires_ms: int | None) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[digest] = _Seen(actor, expires_ms, time.monotonic() + self.seconds)

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()
