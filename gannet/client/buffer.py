"""The log buffer: ``log_metric``, ``log_param`` and ``set_tag`` append here in
microseconds; a thread writes everything waiting in one transaction, in bulk.

Bounded: when ``capacity`` entries are waiting, the producer itself flushes before going
on, so a loop that logs faster than the store writes slows down instead of growing
memory.

Nothing acknowledged is dropped silently. A write the store cannot take now (a
``StoreError``: locked, unreachable, full, read-only) keeps its entries for the next
attempt, and the next synchronous ``flush`` (end_run, exit) raises that error with the
count of entries waiting; a producer that finds the buffer full and the store still
failing gets the error at once, and what that call logged is not kept, so memory stays
bounded. A write the store refuses (any other error: a value it will never take) is split
in halves until the refused entries are alone: everything else lands, and the next
``flush`` raises an error that names and counts the refused entries. Such a batch is
never retried, so one bad value cannot hold back what is logged after it.

A run started before the process's environment capture finished (it runs in a background
thread) gets its environment here: ``add_environment`` queues the capture's future, and
the write that takes it waits for the capture, then stores the environment first, in
the same transaction as the entries logged since the run started. ``flush`` therefore
waits for a capture in flight (reads, exit); ``flush(wait_for_environment=False)`` (ending
a run) and the writer thread write everything else and keep, behind the capture, only
the tags of its run, so a tag set after ``start_run`` still lands after the environment's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from gannet.core.errors import (
    Conflict,
    GannetError,
    InvalidArgument,
    InvalidState,
    StoreError,
)
from gannet.tracking.environment import Environment
from gannet.tracking.types import Pending, Point, WriteReport

Sink = Callable[[Pending], WriteReport]


SHOWN_REJECTIONS = 3  # refused entries an error names (it counts them all)


@dataclass
class _Problems:
    refused: dict[str, int] = field(default_factory=dict)  # run id -> entries not stored
    conflicts: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # entries the store refused: why
    rejected_count: int = 0


class LogBuffer:
    def __init__(
        self, sink: Sink, *, capacity: int = 100_000, interval: float = 0.2, batch: int = 2_000
    ) -> None:
        self._sink = sink
        self._capacity = max(1, capacity)
        self._interval = interval
        self._batch = min(batch, self._capacity)
        self._pending = Pending()
        self._environments: list[tuple[str, Future[Environment]]] = []  # captures in flight
        self._lock = threading.Lock()  # guards _pending and _environments
        self._writing = threading.Lock()  # one write at a time keeps each run's order
        self._wake = threading.Event()
        self._started = False
        self._fork_hook = False
        self._error: Exception | None = None
        self._problems = _Problems()

    def add(self, point: Point) -> None:
        """The hot path of ``log_metric``: append, and wake the writer every ``batch`` points
        so writing overlaps with logging (SQLite releases the GIL while it writes)."""
        with self._lock:
            self._pending.points.append(point)
            waiting = len(self._pending.points)
        if waiting >= self._batch or not self._started:
            self._after_add(waiting, "points", (point,))

    def add_params(self, run_id: str, values: dict[str, str]) -> None:
        rows = [(run_id, k, v) for k, v in values.items()]
        with self._lock:
            self._pending.params.extend(rows)
            waiting = self._pending.size
        self._after_add(waiting, "params", rows)

    def add_tags(self, run_id: str, values: dict[str, str]) -> None:
        rows = [(run_id, k, v) for k, v in values.items()]
        with self._lock:
            self._pending.tags.extend(rows)
            waiting = self._pending.size
        self._after_add(waiting, "tags", rows)

    def add_environment(self, run_id: str, capture: Future[Environment]) -> None:
        """Store the run's environment when ``capture`` has it (before what is logged next)."""
        with self._lock:
            self._environments.append((run_id, capture))
            waiting = self._pending.size + len(self._environments)
        self._after_add(waiting, "environments", ())

    def _after_add(self, waiting: int, group: str, added: Sequence[object]) -> None:
        if not self._started:
            self._start()
        if waiting >= self._batch:
            self._wake.set()
            if waiting >= self._capacity:
                self._make_room(group, added)

    def _make_room(self, group: str, added: Sequence[object]) -> None:
        """Back-pressure: the producer waits for the store. When the store cannot take what
        waits, the buffer does not grow past ``capacity``: what this call added (``added``,
        of the ``group`` of ``Pending``) is taken back, and the error says so."""
        try:
            self.flush()
        except StoreError as exc:
            if self.pending <= self._capacity or not added:
                raise
            self._take_back(group, added)
            cause = exc.__cause__ if isinstance(exc.__cause__, StoreError) else exc
            raise type(exc)(
                f"{cause.message}; the log buffer is full ({self.pending} entries wait in "
                "memory and are written once it can take them), so the values of this call "
                "were not kept",
                exc.hint,
            ) from cause

    def _take_back(self, group: str, added: Sequence[object]) -> None:
        with self._lock:
            entries = getattr(self._pending, group)
            for entry in added:
                at = next(
                    (i for i in range(len(entries) - 1, -1, -1) if entries[i] is entry), None
                )
                if at is not None:
                    del entries[at]

    def flush(self, *, wait_for_environment: bool = True) -> None:
        """Write everything buffered now; raise what went wrong since the last flush (one
        problem per call: the others wait for the next).

        With ``wait_for_environment=False`` environments still being captured (and their
        runs' tags) stay buffered: the writer thread or the next flush stores them.
        """
        self._write(wait_for_environment)
        with self._writing:
            error = self._take_problem()
        if error is not None:
            raise error

    def _take_problem(self) -> Exception | None:
        """The first problem waiting to be raised, forgotten once taken."""
        if self._error is not None:
            error, self._error = self._error, None
            if not isinstance(error, StoreError):
                return error
            waiting = type(error)(
                f"{error.message}; {self.pending} logged entries wait in memory and are "
                "written once it can take them",
                error.hint,
            )
            waiting.__cause__ = error
            return waiting
        problems = self._problems
        if problems.conflicts:
            conflicts, problems.conflicts = problems.conflicts, []
            return Conflict(
                "; ".join(conflicts) + " (params are immutable; the other values of "
                "those writes were stored)",
                "log the new value under another key, or start a new run",
            )
        if problems.refused:
            detail = ", ".join(f"{n} for run {r}" for r, n in problems.refused.items())
            problems.refused = {}
            return InvalidState(
                f"logged values were not stored: {detail} (the run was deleted or never existed)",
                "check the run id; restore a deleted run before logging to it",
            )
        if problems.rejected_count:
            count, shown = problems.rejected_count, problems.rejected
            problems.rejected_count, problems.rejected = 0, []
            more = f"; and {count - len(shown)} more" if count > len(shown) else ""
            return InvalidArgument(
                f"the metadata store refused {count} logged "
                f"{'entry' if count == 1 else 'entries'}, which were not stored: "
                + "; ".join(shown) + more + " (everything else was stored)",
                "fix or leave out those values (docs/tracking.md says what each may be)",
            )
        return None

    @property
    def pending(self) -> int:
        return self._pending.size + len(self._environments)

    def _write(self, wait_for_environment: bool = True) -> None:
        with self._writing:
            with self._lock:
                pending, self._pending = self._pending, Pending()
                captures, self._environments = self._environments, []
            if not wait_for_environment:
                captures = self._hold_back(pending, captures)
            failed_capture = self._resolve(pending, captures)
            if pending.size:
                self._store(pending)
            if failed_capture is not None:
                self._error = failed_capture

    def _store(self, pending: Pending) -> None:
        """Write ``pending``; what the store refuses is found by halving (so the rest lands)
        and reported, never retried; when the store cannot take anything now, what is not
        written yet goes back to the buffer, ahead of newer entries."""
        parts = [pending]  # a stack: the next part to write is last
        while parts:
            part = parts.pop()
            try:
                report = self._sink(part)
            except StoreError as exc:  # the store is unavailable, not the values wrong
                parts.append(part)
                kept = Pending()
                for waiting in reversed(parts):
                    kept = kept.merged_with(waiting)
                with self._lock:
                    self._pending = kept.merged_with(self._pending)
                self._error = exc
                return
            except Exception as exc:  # the store refuses something in this part
                if part.size > 1:
                    older, newer = part.halves()
                    parts += [newer, older]
                else:
                    self._reject(part, exc)
                continue
            self._record(report, part)
        self._error = None

    def _record(self, report: WriteReport, part: Pending) -> None:
        for run_id in report.refused_runs:
            self._problems.refused[run_id] = self._problems.refused.get(
                run_id, 0
            ) + part.count_for(run_id)
        self._problems.conflicts.extend(report.conflicts)

    def _reject(self, entry: Pending, exc: Exception) -> None:
        problems = self._problems
        problems.rejected_count += 1
        if len(problems.rejected) < SHOWN_REJECTIONS:
            reason = exc.message if isinstance(exc, GannetError) else f"{type(exc).__name__}: {exc}"
            problems.rejected.append(f"{_describe(entry)}: {reason}")

    def _hold_back(
        self, pending: Pending, captures: list[tuple[str, Future[Environment]]]
    ) -> list[tuple[str, Future[Environment]]]:
        """Put the captures not finished yet, and their runs' tags, back in the buffer
        (ahead of anything newer); return the finished ones."""
        done = [c for c in captures if c[1].done()]
        held = [c for c in captures if c not in done]
        if not held:
            return captures
        waiting = {run_id for run_id, _ in held}
        kept = [t for t in pending.tags if t[0] in waiting]
        pending.tags = [t for t in pending.tags if t[0] not in waiting]
        with self._lock:
            self._environments[:0] = held
            self._pending = Pending(tags=kept).merged_with(self._pending)
        return done

    @staticmethod
    def _resolve(
        pending: Pending, captures: list[tuple[str, Future[Environment]]]
    ) -> Exception | None:
        """Wait for the environments being captured and add them to ``pending``; a capture
        that failed is returned, to be raised by the next ``flush`` (its run keeps no
        environment)."""
        failed = None
        for run_id, capture in captures:
            try:
                pending.environments.append((run_id, capture.result()))
            except Exception as exc:
                failed = exc
        return failed

    def _start(self) -> None:
        """Start the writer thread (again in a forked child, whose copy of us has none)."""
        self._started = True
        if not self._fork_hook:
            os.register_at_fork(after_in_child=self._forget_thread)
            self._fork_hook = True
        thread = threading.Thread(target=self._run, name="gannet-log-writer", daemon=True)
        thread.start()

    def _forget_thread(self) -> None:
        """In a forked child: the parent writes what was pending; the child starts afresh."""
        self._started = False
        self._pending = Pending()
        self._environments = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._write(wait_for_environment=False)


def _describe(entry: Pending) -> str:
    """What the one entry of ``entry`` is, for an error message."""
    for run_id, key, value, timestamp, step in entry.points:
        return f"metric {key!r} of run {run_id} (value {value!r}, step {step}, time {timestamp})"
    for run_id, key, _ in entry.params:
        return f"param {key!r} of run {run_id}"
    for run_id, key, _ in entry.tags:
        return f"tag {key!r} of run {run_id}"
    for run_id, _ in entry.environments:
        return f"the environment of run {run_id}"
    return "an empty write"
