"""The pre-fork parent: N worker processes on one listening socket, kept alive.

The parent forks its children after the socket is bound (so they share it: the kernel
spreads connections over them). It supervises: a child that dies is restarted (a crash
loop stops the server), SIGTERM/SIGINT are forwarded to the children, which stop
accepting, answer what is in flight and close their log. With a shared Prometheus
multiprocess folder, a dead child's live gauges stop counting, and the folder lists the
server's processes (its own and its children's ids) for the ``process_*`` metrics.

Children never outlive the parent (killed with SIGKILL, say, so it forwards nothing):
each asks Linux for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and, on
every system, watches a pipe whose write end only the parent holds - end of file means
the parent is gone - and then sends itself SIGTERM. Either way the child stops as on a
forwarded SIGTERM (answers what is in flight, closes its log) and frees the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
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
        self, workers: int, work: Callable[[], None], *, metrics_dir: str | None = None,
        housekeeping: Callable[[threading.Event], None] | None = None,
    ) -> None:
        self.workers = workers
        self.work = work
        self.metrics_dir = metrics_dir
        self.housekeeping = housekeeping  # run in one more child, until SIGTERM
        self.housekeeper: int | None = None  # its pid
        self.children: dict[int, float] = {}  # pid -> start time
        self.stopping = False
        self.crashes = 0
        self._lifeline: tuple[int, int] | None = None  # the pipe children watch (read, write)

    def run(self) -> None:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        self._lifeline = os.pipe()
        try:
            for _ in range(self.workers):
                self._spawn()
            if self.housekeeping is not None:
                self.housekeeper = self._spawn(self._keep_house)
            while self.children:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                self._reap(pid, status)
        finally:
            for fd in self._lifeline:
                os.close(fd)
            self._lifeline = None
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _reap(self, pid: int, status: int) -> None:
        started = self.children.pop(pid, None)
        if self.metrics_dir is not None:  # its live gauges no longer count
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, self.metrics_dir)
            self._publish_pids()
        if started is None or self.stopping:
            return
        code = os.waitstatus_to_exitcode(status)
        self.crashes = self.crashes + 1 if time.monotonic() - started < self.CRASH_WINDOW else 0
        if self.crashes >= self.MAX_CRASHES:
            logger.error("workers keep dying (last exit status %s): stopping", code)
            self._stop(signal.SIGTERM, None)
            return
        if pid == self.housekeeper:
            logger.warning("housekeeper %s exited with status %s: starting another", pid, code)
            self.housekeeper = self._spawn(self._keep_house)
            return
        logger.warning("worker %s exited with status %s: starting another", pid, code)
        self._spawn()

    def _keep_house(self) -> None:
        assert self.housekeeping is not None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.housekeeping(stop)

    def _spawn(self, work: Callable[[], None] | None = None) -> int:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            code = 0
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                assert self._lifeline is not None
                follow_parent(parent, self._lifeline)
                (work or self.work)()
            except BaseException as exc:
                code = 1
                print(f"gannet serve worker {os.getpid()} failed: {exc}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()
        self._publish_pids()
        return pid

    def _publish_pids(self) -> None:
        if self.metrics_dir is not None:
            from gannet.serving.server.metrics import publish_pids

            publish_pids(self.metrics_dir, [os.getpid(), *self.children])

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def follow_parent(parent: int, lifeline: tuple[int, int]) -> None:
    """In a child just forked from ``parent``: get SIGTERM when the parent dies.

    ``lifeline`` is a pipe whose write end only the parent keeps open: the child closes
    its copy and a daemon thread waits on the read end, whose end of file means the
    parent is gone (on any POSIX system); Linux is also asked to send SIGTERM itself.
    """
    read_end, write_end = lifeline
    os.close(write_end)
    _ask_for_sigterm_on_parent_death()
    threading.Thread(target=_watch_lifeline, args=(read_end,), name="gannet-parent-watch",
                     daemon=True).start()
    if os.getppid() != parent:  # it died before the watch began
        os.kill(os.getpid(), signal.SIGTERM)


def _ask_for_sigterm_on_parent_death() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl here: the lifeline alone will do
        pass


def _watch_lifeline(read_end: int) -> None:
    """Block until the pipe's last writer (the parent) is gone, then stop this process."""
    try:
        while os.read(read_end, 1):
            pass
    except OSError:
        pass
    logger.warning("worker %s: its parent process is gone; stopping", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
