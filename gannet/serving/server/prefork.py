"""The pre-fork parent: N worker processes on one listening socket, kept alive.

The parent forks its children after the socket is bound (so they share it: the kernel
spreads connections over them). It supervises: a child that dies is restarted (a crash
loop stops the server), SIGTERM/SIGINT are forwarded to the children, which stop
accepting, answer what is in flight and close their log. With a shared Prometheus
multiprocess folder, a dead child's live gauges stop counting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Supervisor"]

logger = logging.getLogger("gannet.serving")


class Supervisor:
    """A pre-fork parent: N children running ``work``; restarts, forwards stop signals."""

    CRASH_WINDOW = 5.0  # a child dying sooner than this after its start counts as a crash
    MAX_CRASHES = 5

    def __init__(
        self, workers: int, work: Callable[[], None], *, metrics_dir: str | None = None
    ) -> None:
        self.workers = workers
        self.work = work
        self.metrics_dir = metrics_dir
        self.children: dict[int, float] = {}  # pid -> start time
        self.stopping = False
        self.crashes = 0

    def run(self) -> None:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for _ in range(self.workers):
                self._spawn()
            while self.children:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                self._reap(pid, status)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _reap(self, pid: int, status: int) -> None:
        started = self.children.pop(pid, None)
        if self.metrics_dir is not None:  # its live gauges no longer count
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, self.metrics_dir)
        if started is None or self.stopping:
            return
        code = os.waitstatus_to_exitcode(status)
        self.crashes = self.crashes + 1 if time.monotonic() - started < self.CRASH_WINDOW else 0
        if self.crashes >= self.MAX_CRASHES:
            logger.error("workers keep dying (last exit status %s): stopping", code)
            self._stop(signal.SIGTERM, None)
            return
        logger.warning("worker %s exited with status %s: starting another", pid, code)
        self._spawn()

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            code = 0
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                self.work()
            except BaseException as exc:
                code = 1
                print(f"gannet serve worker {os.getpid()} failed: {exc}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
