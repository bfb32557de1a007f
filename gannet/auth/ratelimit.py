"""Counting failed logins, so that guessing passwords or tokens is too slow to work.

A sliding window per key (a user name, a client address): after ``limit`` failures within
``window`` seconds, further attempts with that key are refused (``RateLimited``, 429)
until the oldest failure leaves the window. Successes do not count. Kept in memory, per
server process: each replica and worker counts on its own, which bounds an attacker to
``limit`` x processes attempts a window, still hopeless against 32-byte tokens and argon2.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from gannet.core.errors import RateLimited

FAILURES = 10
WINDOW = 60.0
MAX_KEYS = 100_000  # the oldest keys are forgotten beyond this (memory stays bounded)


class FailureLimiter:
    def __init__(self, limit: int = FAILURES, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, *keys: str | None) -> None:
        """Refuse when any of ``keys`` failed ``limit`` times within the window."""
        now = self.clock()
        with self._lock:
            for key in keys:
                if key is None:
                    continue
                recent = self._recent(key, now)
                if recent is not None and len(recent) >= self.limit:
                    wait = max(1, int(recent[0] + self.window - now) + 1)
                    raise RateLimited(
                        f"too many failed logins (over {self.limit} in {int(self.window)} s)",
                        f"wait {wait} s, then try again with the right credentials",
                    )

    def failed(self, *keys: str | None) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                if key is None:
                    continue
                recent = self._recent(key, now)
                if recent is None:
                    recent = self._failures[key] = deque()
                recent.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        recent = self._failures.get(key)
        if recent is None:
            return None
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if not recent:
            del self._failures[key]
            return None
        return recent
