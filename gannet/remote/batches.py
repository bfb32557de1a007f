"""The log buffer's writes over HTTP, each landing exactly once.

Every batch goes with an id of its own; the transport sends the very same request again
when a connection drops, and the server, which records the id in the batch's own
transaction, writes it once and answers a repeat with its first answer.

A batch can outlive the transport's retries: the server is restarting, the network is
down for longer. Then nobody knows whether it landed, and the log buffer, told "the store
is unavailable" (a ``StoreError``), keeps its entries and hands them back in a later,
bigger batch. ``BatchSender`` remembers such unsure batches with their ids; before the
next write it sends each of them again under its own id (stored once, whatever happened
to the first try), and leaves their entries out of what it sends next. So neither a
restart nor a lost answer stores a point twice, and no entry the buffer kept is lost.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from gannet.core.errors import StoreError, Unavailable
from gannet.tracking.types import Pending, WriteReport

__all__ = ["MAX_ENTRIES", "BatchSender"]

MAX_ENTRIES = 20_000  # entries per request: a body of a few MB, well under the server's limit

Send = Callable[[str, Pending], WriteReport]


class BatchSender:
    def __init__(self, send: Send, *, max_entries: int = MAX_ENTRIES) -> None:
        self._send = send
        self._max_entries = max_entries
        self._unsure: list[tuple[str, Pending]] = []
        self._lock = threading.Lock()
        self.resent = 0  # unsure batches sent again (each stored once, whatever happened)

    @property
    def unsure(self) -> int:
        """Entries of batches that may or may not have landed (sent again before the next)."""
        return sum(part.size for _, part in self._unsure)

    def write(self, pending: Pending) -> WriteReport:
        """Send ``pending`` (in parts of at most ``max_entries``); raises ``StoreError``
        when the server cannot be reached, as a store that cannot write does."""
        with self._lock:
            reports = self._settle()
            pending = _without(pending, [part for _, part in self._unsure])
            self._unsure = []
            parts = [(uuid.uuid4().hex, part) for part in _parts(pending, self._max_entries)]
            for at, (batch_id, part) in enumerate(parts):
                try:
                    reports.append(self._send(batch_id, part))
                except Unavailable as exc:
                    self._unsure = parts[: at + 1]  # sent (and answered) or not: send again
                    raise _store_error(exc) from exc
            return _merged(reports)

    def _settle(self) -> list[WriteReport]:
        """Send every unsure batch again under its own id. One the server refuses (a
        value it will not take) was never stored: it is forgotten, and its entries go out
        with the rest, where the log buffer finds the refused one."""
        reports = []
        for batch_id, part in list(self._unsure):
            try:
                reports.append(self._send(batch_id, part))
                self.resent += 1
            except Unavailable as exc:
                raise _store_error(exc) from exc
            except Exception:
                self._unsure.remove((batch_id, part))
        return reports


def _parts(pending: Pending, limit: int) -> list[Pending]:
    """``pending`` cut in order into parts of at most ``limit`` entries."""
    if pending.size <= limit:
        return [pending] if pending.size else []
    parts = []
    rest = pending
    while rest.size > limit:
        head, rest = _split(rest, limit)
        parts.append(head)
    return [*parts, rest] if rest.size else parts


def _split(pending: Pending, count: int) -> tuple[Pending, Pending]:
    """The first ``count`` entries (environments, params, tags, points) and the rest."""
    first: list[list[Any]] = []
    second: list[list[Any]] = []
    for group in (pending.environments, pending.params, pending.tags, pending.points):
        take = min(count, len(group))
        count -= take
        first.append(group[:take])
        second.append(group[take:])
    return (Pending(first[3], first[1], first[2], first[0]),
            Pending(second[3], second[1], second[2], second[0]))


def _without(pending: Pending, sent: Sequence[Pending]) -> Pending:
    """``pending`` less one occurrence of each entry of ``sent`` (the oldest: the buffer
    put them back ahead of anything newer)."""
    if not sent:
        return pending

    def less(group: list[Any], name: str) -> list[Any]:
        gone: Counter[Any] = Counter(e for part in sent for e in getattr(part, name))
        kept = []
        for entry in group:
            if gone[entry] > 0:
                gone[entry] -= 1
            else:
                kept.append(entry)
        return kept

    return Pending(less(pending.points, "points"), less(pending.params, "params"),
                   less(pending.tags, "tags"), less(pending.environments, "environments"))


def _merged(reports: Sequence[WriteReport]) -> WriteReport:
    if len(reports) == 1:
        return reports[0]
    return WriteReport(
        frozenset(run for report in reports for run in report.refused_runs),
        tuple(conflict for report in reports for conflict in report.conflicts),
    )


def _store_error(exc: Unavailable) -> StoreError:
    """What the log buffer keeps its entries for: the server (its store) is unavailable."""
    kind = type(exc) if isinstance(exc, StoreError) else StoreError
    return kind(exc.message, exc.hint)
