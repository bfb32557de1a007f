"""Adaptive micro-batching: concurrent requests for one model version, one vectorised predict.

A ``MicroBatcher`` keeps a queue of jobs (one per request) and one runner task. When the
model is idle and a single request waits, it runs at once - no added latency at low load.
While a batch runs (in a worker thread, so the event loop keeps reading requests) the next
requests queue up; the next batch takes them all, up to ``max_rows`` rows (rows, not
requests: a request of 100 rows counts 100). When the runner wakes to several waiting
requests it gives the event loop up to ``max_wait`` seconds to hand over the requests it is
still reading, as long as more keep arriving. Under load the batch size grows by itself.

``run_batch(payloads, proba)`` is called in the worker thread and returns one outcome per
payload: a value, or an exception for that request alone. A batcher being closed refuses
new requests with ``NotReady``; a ``run_batch`` that breaks its promise (raises, or gives
the wrong number of outcomes) fails the batch's requests with ``ModelFailed``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from gannet.core.errors import GannetError, ModelFailed, NotReady

__all__ = ["BatchObserver", "MicroBatcher"]

BatchObserver = Callable[[int, Sequence[float]], None]  # (rows in the batch, queue waits in s)
RunBatch = Callable[[Sequence[Any], bool], Sequence[Any]]


@dataclass(slots=True)
class _Job:
    payload: Any
    rows: int
    proba: bool
    future: asyncio.Future
    queued: float


class MicroBatcher:
    def __init__(
        self,
        run_batch: RunBatch,
        *,
        executor: Executor,
        max_rows: int = 256,
        max_wait: float = 0.002,
        observe: BatchObserver | None = None,
    ) -> None:
        self.run_batch = run_batch
        self.executor = executor
        self.max_rows = max(1, int(max_rows))
        self.max_wait = max(0.0, float(max_wait))
        self.observe = observe
        self._queue: deque[_Job] = deque()
        self._wake: asyncio.Future | None = None
        self._runner: asyncio.Task | None = None
        self._closed = False
        self.busy = False

    @property
    def pending(self) -> int:
        """Requests queued or running."""
        return len(self._queue) + (1 if self.busy else 0)

    async def submit(self, payload: Any, rows: int, proba: bool = False) -> Any:
        """The outcome for ``payload`` (raises the exception its batch gave it)."""
        if self._closed:
            raise NotReady("this model version is being unloaded",
                           "send the request again: the version that replaces it is loaded")
        loop = asyncio.get_running_loop()
        if self._runner is None:
            self._runner = loop.create_task(self._run())
        job = _Job(payload, rows, proba, loop.create_future(), time.perf_counter())
        self._queue.append(job)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        outcome = await job.future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def close(self) -> None:
        """Finish what is queued, then stop the runner."""
        self._closed = True
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        if self._runner is not None:
            await self._runner

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake = loop.create_future()
                await self._wake
                continue
            await self._gather()
            jobs = self._take()
            await self._execute(loop, jobs)

    async def _gather(self) -> None:
        """Several requests wait: let the loop hand over the ones it is still reading."""
        if len(self._queue) < 2 or self.max_wait <= 0:
            return
        deadline = time.perf_counter() + self.max_wait
        seen, idle = len(self._queue), 0
        while idle < 2 and time.perf_counter() < deadline and self._rows() < self.max_rows:
            await asyncio.sleep(0)
            idle = idle + 1 if len(self._queue) == seen else 0
            seen = len(self._queue)

    def _rows(self) -> int:
        return sum(job.rows for job in self._queue)

    def _take(self) -> list[_Job]:
        jobs = [self._queue.popleft()]
        rows = jobs[0].rows
        while self._queue and rows + self._queue[0].rows <= self.max_rows:
            job = self._queue.popleft()
            jobs.append(job)
            rows += job.rows
        return jobs

    async def _execute(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        started = time.perf_counter()
        if self.observe is not None:
            self.observe(sum(j.rows for j in jobs), [started - j.queued for j in jobs])
        payloads = [j.payload for j in jobs]
        proba = any(j.proba for j in jobs)
        self.busy = True
        try:
            outcomes = await loop.run_in_executor(self.executor, self.run_batch, payloads, proba)
            if len(outcomes) != len(jobs):
                raise ModelFailed(f"the batch gave {len(outcomes)} outcomes for {len(jobs)} "
                                  "requests")
        except GannetError as exc:
            outcomes = [exc] * len(jobs)
        except Exception as exc:
            failed = ModelFailed(f"the batch failed: {type(exc).__name__}: {exc}")
            failed.__cause__ = exc
            outcomes = [failed] * len(jobs)
        finally:
            self.busy = False
        for job, outcome in zip(jobs, outcomes, strict=True):
            if not job.future.done():
                job.future.set_result(outcome)
