"""Moving many blobs at once: a thread pool, and a progress bar only when it is worth one.

Threads, not processes: blake3 and file and network I/O release the GIL, so hashing and
uploading several files really overlap. The bar (rich, imported only when shown) appears
for transfers big enough to be waited for, and on stderr, so it never mixes with output.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

BIG = 64 << 20  # show a bar when a transfer moves more bytes than this ...
MANY = 500  # ... or more files than this


def run_parallel(fn: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``[fn(item) for item in items]`` on up to ``threads`` threads; the first error wins
    and the items not yet started are cancelled."""
    if threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    workers = min(threads, len(items))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gannet-blobs") as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


class Tracker:
    """Counts bytes moved; shows a rich bar once the expected total is big enough."""

    def __init__(self, label: str, *, enabled: bool, total: int = 0, files: int = 0) -> None:
        self._label = label
        self._enabled = enabled
        self._total = total
        self._files = files
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._done = 0

    def __enter__(self) -> Tracker:
        self._maybe_show()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    def expect(self, nbytes: int) -> None:
        """Add bytes to the expected total (when sizes are learnt along the way)."""
        with self._lock:
            self._total += nbytes
            if self._progress is not None:
                self._progress.update(self._task, total=self._total)
        self._maybe_show()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self._done += nbytes
            if self._progress is not None:
                self._progress.update(self._task, completed=self._done)

    def _maybe_show(self) -> None:
        with self._lock:
            if self._progress is not None or not self._enabled:
                return
            if self._total <= BIG and self._files <= MANY:
                return
            self._progress = _new_bar()
            self._task = self._progress.add_task(
                self._label, total=self._total or None, completed=self._done
            )
            self._progress.start()


class Counter(Tracker):
    """A tracker with no bar of its own: it passes the bytes moved to ``advance``."""

    def __init__(self, advance: Callable[[int], None] | None) -> None:
        super().__init__("", enabled=False)
        self._callback = advance

    def advance(self, nbytes: int) -> None:
        if self._callback is not None:
            self._callback(nbytes)


def _new_bar() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
