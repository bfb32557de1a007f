"""The metric buffer: ``log_metric`` appends here in microseconds; a thread writes in bulk.

Bounded: when ``capacity`` points are waiting, the producer itself flushes before going
on, so a loop that logs faster than the store writes slows down instead of growing
memory. A failed write keeps its points for the next attempt and the error is raised
by the next synchronous ``flush`` (end_run, exit), so nothing is dropped silently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from gannet.core.errors import InvalidState
from gannet.tracking.repository import Point

Sink = Callable[[list[Point]], set[str]]  # writes points, returns run ids it refused


class MetricBuffer:
    def __init__(
        self, sink: Sink, *, capacity: int = 100_000, interval: float = 0.2, batch: int = 10_000
    ) -> None:
        self._sink = sink
        self._capacity = max(1, capacity)
        self._interval = interval
        self._batch = min(batch, self._capacity)
        self._points: list[Point] = []
        self._lock = threading.Lock()  # guards _points
        self._writing = threading.Lock()  # one write at a time keeps each run's order
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._error: Exception | None = None
        self._refused: dict[str, int] = {}

    def add(self, point: Point) -> None:
        with self._lock:
            self._points.append(point)
            waiting = len(self._points)
        if self._pid != os.getpid():
            self._start()
        if waiting >= self._batch:
            self._wake.set()
            if waiting >= self._capacity:
                self.flush()  # back-pressure: the producer waits for the store

    def extend(self, points: list[Point]) -> None:
        with self._lock:
            self._points.extend(points)
        if self._pid != os.getpid():
            self._start()
        self._wake.set()

    def flush(self) -> None:
        """Write everything buffered now; raise what went wrong since the last flush."""
        self._write()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._refused:
            refused, self._refused = self._refused, {}
            detail = ", ".join(f"{n} for run {r}" for r, n in refused.items())
            raise InvalidState(
                f"metric points were not stored: {detail} (the run was deleted or never existed)",
                "check the run id; restore a deleted run before logging to it",
            )

    @property
    def pending(self) -> int:
        return len(self._points)

    def _write(self) -> None:
        with self._writing:
            with self._lock:
                points, self._points = self._points, []
            if not points:
                return
            try:
                refused = self._sink(points)
            except Exception as exc:  # keep the points for the next attempt
                with self._lock:
                    self._points[:0] = points
                self._error = exc
                return
            self._error = None
            for run_id in refused:
                self._refused[run_id] = self._refused.get(run_id, 0) + sum(
                    1 for p in points if p[0] == run_id
                )

    def _start(self) -> None:
        """Start the writer thread (again, in a forked child, whose copy has none)."""
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="gannet-metric-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._write()
