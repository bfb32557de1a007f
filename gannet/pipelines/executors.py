"""Executors: where steps run. The interface is two methods (``Executor``), so Ray or
Kubernetes can follow; ``local`` runs steps one at a time in this process, ``processes``
runs independent steps in parallel worker processes (the default), ``dask`` ships them
to a Dask distributed cluster. Outputs always travel through the blob store: a worker
returns digests, never the values, so the scheduler carries only small messages.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from gannet.core.errors import InvalidArgument, Unavailable
from gannet.pipelines.tasks import StepOutcome, StepTask, execute


class Executor(Protocol):
    """Runs step tasks; every method is required."""

    name: str

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        """Start ``task``; the future's result is its outcome (a step's own failure is in
        the outcome; an exception means the worker itself failed, e.g. it died)."""
        ...

    def stop(self, *, kill: bool) -> None:
        """Release the workers; ``kill`` stops the steps still running (Ctrl-C)."""
        ...


class LocalExecutor:
    """Each step in this process, when submitted (for debugging: breakpoints work)."""

    name = "local"

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        future: Future[StepOutcome] = Future()
        future.set_result(execute(task))
        return future

    def stop(self, *, kill: bool) -> None:
        pass


class ProcessExecutor:
    """Independent steps in parallel, in a pool of worker processes made on first use."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(8, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        check_picklable(task, self.name)
        if self._pool is None or getattr(self._pool, "_broken", False):
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=_start_method(task), initializer=_prepare_worker,
                initargs=(os.getcwd(), dict(os.environ), list(sys.path)),
            )
        try:
            return self._pool.submit(execute, task)
        except BrokenProcessPool:  # a worker died: a new pool for this and later steps
            self._pool = None
            return self.submit(task)

    def stop(self, *, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # the pool has no way to stop running work: end its processes
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=not kill, cancel_futures=True)


def _start_method(task: StepTask) -> multiprocessing.context.BaseContext:
    """How workers start: from a fork server where there is one, a clean process that
    forks them before any thread of the caller (a server's, a BLAS or DuckDB pool) can
    leave a lock held or a library half set up in them, which makes a plain fork of a
    busy process crash or hang. Steps of ``__main__`` (a notebook's cells) exist only in
    this process, so for them a plain fork is the one way to carry them."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods and getattr(task.step, "fn", None) is not None \
            and task.step.fn.__module__ != "__main__":
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["gannet.pipelines.tasks"])
        return context
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _prepare_worker(cwd: str, environ: dict[str, str], path: list[str]) -> None:
    """A worker sees the caller's working folder, environment and import path as they are
    now (a fork server's are those of when it started), and leaves Ctrl-C to the
    coordinator, which stops the workers (and records the steps)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path


class DaskExecutor:
    """Steps on a Dask distributed cluster at ``address`` (``tcp://host:8786``)."""

    name = "dask"

    def __init__(self, address: str | None) -> None:
        if not address:
            raise InvalidArgument("the dask executor needs the scheduler's address",
                                  "e.g. --executor dask --address tcp://127.0.0.1:8786")
        self.address = address
        self._client: Any = None

    def _connect(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client
            except ImportError:
                raise Unavailable("the dask executor needs the distributed package",
                                  "pip install 'gannet-mlops[dask]'") from None
            try:
                self._client = Client(self.address, timeout=10, set_as_default=False)
            except OSError as exc:
                raise Unavailable(f"cannot reach the Dask scheduler at {self.address}: {exc}",
                                  "start one (dask scheduler) or check --address") from None
        return self._client

    def submit(self, task: StepTask) -> Future[StepOutcome]:
        check_picklable(task, self.name)
        client = self._connect()
        remote = client.submit(execute, task, pure=False, key=f"gannet-{task.node}-{id(task)}")
        future: Future[StepOutcome] = Future()

        def transfer(done: Any) -> None:
            try:
                future.set_result(done.result())
            except BaseException as exc:  # the worker (not the step) failed
                future.set_exception(exc)

        remote.add_done_callback(transfer)
        future.remote = remote  # type: ignore[attr-defined]
        return future

    def stop(self, *, kill: bool) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def check_picklable(task: StepTask, executor: str) -> None:
    """Refuse, naming the step, what cannot travel to another process."""
    try:
        pickle.dumps(task)
    except Exception as exc:
        raise InvalidArgument(
            f"step {task.node!r} cannot be sent to the {executor} executor's workers: {exc}",
            "define steps at the top level of a module, and pass them only picklable values "
            "(or run with --executor local)",
        ) from None


def make_executor(name: str, *, address: str | None = None, workers: int | None = None) -> Any:
    """The executor called ``name``: local, processes or dask."""
    if name == "local":
        return LocalExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(address)
    raise InvalidArgument(f"no executor {name!r}", "use local, processes or dask")
