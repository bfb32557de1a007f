"""The coordinator of one pipeline run: it walks the graph, answers steps from the cache,
hands the others to the executor, retries failures with backoff, and records every step.

A failed step (after its retries) fails the run: no new step starts, running ones finish,
the rest stay PENDING, so ``resume`` knows what is left. Ctrl-C stops the executor's
running steps, records them and the run KILLED, then lets the interrupt go on.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.errors import GannetError
from gannet.pipelines import cache, repository
from gannet.pipelines.datasets import DatasetLineage, resolve_inputs
from gannet.pipelines.graph import Node, Output
from gannet.pipelines.materializers import StoredValue
from gannet.pipelines.pruning import TrialRef
from gannet.pipelines.tasks import StepOutcome, StepTask
from gannet.pipelines.types import PipelineRun, StepResult, StepStatus

if TYPE_CHECKING:
    from gannet.pipelines.graph import Graph
    from gannet.pipelines.service import PipelineService

DONE = {StepStatus.FINISHED, StepStatus.SKIPPED}
GRACE_S = 1.0
POLL_S = 0.2  # how long the coordinator waits before it looks for a Ctrl-C again


@dataclass
class _Running:
    node: Node
    step: StepResult
    inputs: dict[str, Any]
    attempt: int
    started: float


def _deadline(running: _Running) -> float | None:
    """When the coordinator gives up on a running step (its timeout, plus a grace for the
    worker's own interruption to arrive first)."""
    timeout = running.node.step.timeout
    return None if not timeout else running.started + timeout + GRACE_S


@dataclass
class Runner:
    service: PipelineService
    graph: Graph
    run: PipelineRun
    experiment_id: str
    executor: Any
    use_cache: bool = True
    reuse: dict[str, StepResult] = field(default_factory=dict)  # resume: kept results
    on_step: Callable[[StepResult], None] | None = None
    only: set[str] | None = None  # run just these steps (the others: kept or left alone)
    trial: TrialRef | None = None  # the sweep's trial this run is (its steps may be pruned)
    results: dict[str, StepResult] = field(default_factory=dict)
    _running: dict[Future[StepOutcome], _Running] = field(default_factory=dict)
    _retry_at: list[tuple[float, _Running]] = field(default_factory=list)
    _failed: bool = False
    _pruned: bool = False
    _interrupted: bool = False

    def __post_init__(self) -> None:
        self.datasets = DatasetLineage(self.service.lineage, self.run.run_id, self.graph.name)

    def go(self) -> PipelineRun:
        order = self.graph.ordered()
        self.positions = {n.name: i for i, n in enumerate(order)}
        waiting = list(order)
        try:
            with self._interrupts():
                self._loop(waiting)
        except BaseException:
            self._kill()
            raise
        finally:
            self.executor.stop(kill=False)
        if self.only is None:
            for node in waiting:  # never started: the run failed first
                self._record(node, StepResult(node.name, StepStatus.PENDING))
        self.run.steps = [self.results[n.name] for n in order if n.name in self.results]
        self.run.status = self._status(order)
        return self.run

    def _loop(self, waiting: list[Node]) -> None:
        """Start what is ready and settle what ends until nothing more can run; ``waiting``
        is left holding the steps that never started."""
        while True:
            if self._interrupted:
                raise KeyboardInterrupt
            before = len(waiting)
            waiting[:] = [n for n in waiting if not self._start_if_ready(n)]
            if not self._running and not self._retry_at:
                if waiting and len(waiting) < before and not self._failed:
                    continue  # what settled (a skip, a cache hit) unblocked others
                break
            self._wait()

    @contextmanager
    def _interrupts(self) -> Iterator[None]:
        """Ctrl-C while steps run elsewhere (processes, Dask) is noted and acted on between
        two waits, never in the middle of a write; a second Ctrl-C acts at once. Steps that
        run in this process (local) are interrupted where they are."""
        if self.executor.name == "local" or (
            threading.current_thread() is not threading.main_thread()
        ):
            yield
            return

        def note(signum: int, frame: Any) -> None:
            if self._interrupted:
                raise KeyboardInterrupt
            self._interrupted = True

        previous = signal.signal(signal.SIGINT, note)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _status(self, order: list[Node]) -> str:
        if self._pruned:
            return StepStatus.PRUNED
        if self._failed:
            return StepStatus.FAILED
        settled = all(n.name in self.results and self.results[n.name].status in DONE
                      for n in order)
        return StepStatus.FINISHED if settled else StepStatus.RUNNING

    # -- starting --------------------------------------------------------------------------

    def _start_if_ready(self, node: Node) -> bool:
        """Start (or settle) ``node`` when every step it needs is done; True when handled."""
        if self._failed:
            return False
        if self.only is not None and node.name not in self.only and node.name not in self.reuse:
            return False
        upstream = {o.node for o in node.upstream}
        if any(self.results.get(u) is None or self.results[u].status not in DONE
               for u in upstream):
            return False
        if self._skipped(node, upstream):
            self._record(node, StepResult(node.name, StepStatus.SKIPPED))
            return True
        if node.name in self.reuse:
            self.results[node.name] = self.reuse[node.name]
            self._note_kept(node)
            self._notify(self.reuse[node.name])
            return True
        step = StepResult(node.name, StepStatus.RUNNING)
        step.step_run_id = self.service.recorder.start_step(
            self.run.run_id, self.experiment_id, node)
        try:  # dataset references resolved here: a wrong one fails the step, named
            inputs = self._inputs(node)
        except GannetError as exc:
            step.status, step.error = StepStatus.FAILED, f"{type(exc).__name__}: {exc}"
            self._failed = True
            self._finish(node, step, {}, None)
            return True
        self.datasets.record(node, step.step_run_id, inputs)
        step.cache_key = key = cache.cache_key(
            cache.code_digest(node.step.fn), node.constants, inputs,
            cache.environment_of(node.step.requirements))
        hit = self.service.cached(key) if self.use_cache and node.step.cache else None
        if hit is not None:
            step.status, step.cached = StepStatus.FINISHED, True
            step.outputs, step.cached_from = hit
            self._finish(node, step, inputs, None)
            return True
        self._submit(_Running(node, step, inputs, 1, time.perf_counter()))
        return True

    def _skipped(self, node: Node, upstream: set[str]) -> bool:
        if any(self.results[u].status == StepStatus.SKIPPED for u in upstream):
            return True
        if node.condition is None:
            return False
        return not self.service.load_stored(self._stored(node.condition))

    def _inputs(self, node: Node) -> dict[str, Any]:
        """The step's inputs: outputs as stored values, dataset versions resolved."""
        bound = {k: self._bind(v) for k, v in node.inputs.items()}
        return resolve_inputs(node, bound, self.service.resolve_dataset,
                              self.service.load_stored)

    def _note_kept(self, node: Node) -> None:
        """A kept step (resume): what it used, for the steps after it."""
        try:
            self.datasets.note(node, self._inputs(node))
        except GannetError:  # its reference names nothing now: it ran with it before
            self.datasets.note(node, {})

    def _bind(self, value: Any) -> Any:
        """An input with every step output replaced by its stored value."""
        if isinstance(value, Output):
            return self._stored(value)
        if isinstance(value, list | tuple):
            return type(value)(self._bind(v) for v in value)
        if isinstance(value, dict):
            return {k: self._bind(v) for k, v in value.items()}
        return value

    def _stored(self, output: Output) -> StoredValue:
        return self.results[output.node].outputs[output.name]

    def _submit(self, running: _Running) -> None:
        step = running.node.step
        task = StepTask(running.node.name, step, running.inputs, self.service.open_blobs,
                        step.timeout, running.attempt, self.trial, running.step.step_run_id)
        running.started = time.perf_counter()
        self._notify(running.step)
        try:
            future = self.executor.submit(task)
        except Exception as exc:  # it cannot even be sent (unpicklable, no cluster)
            step = running.step
            step.status, step.error, step.attempts = StepStatus.FAILED, str(exc), running.attempt
            self._finish(running.node, step, running.inputs, None)
            raise
        self._running[future] = running

    # -- waiting ---------------------------------------------------------------------------

    def _wait(self) -> None:
        now = time.perf_counter()
        due = [r for t, r in self._retry_at if t <= now]
        self._retry_at = [(t, r) for t, r in self._retry_at if t > now]
        for running in due:
            self._submit(running)
        deadlines = [d for d in map(_deadline, self._running.values()) if d is not None]
        wake = min([t for t, _ in self._retry_at] + deadlines, default=None)
        timeout = None if wake is None else max(0.0, wake - now)
        timeout = POLL_S if timeout is None else min(timeout, POLL_S)  # look at Ctrl-C
        if not self._running:
            time.sleep(timeout or 0)
            return
        done, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
        self._expire(set(done))
        for future in done:
            running = self._running.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # the worker, not the step, failed (it died, say)
                outcome = StepOutcome(running.node.name, error=(
                    f"the worker running step {running.node.name!r} failed: "
                    f"{type(exc).__name__}: {exc}"))
            self._settle(running, outcome)

    def _expire(self, done: set[Future[StepOutcome]]) -> None:
        """Fail steps past their timeout that their worker could not interrupt (a thread of
        a Dask worker): the coordinator stops waiting for them."""
        now = time.perf_counter()
        for future, running in list(self._running.items()):
            deadline = _deadline(running)
            if future in done or deadline is None or now < deadline:
                continue
            del self._running[future]
            future.cancel()
            timeout = running.node.step.timeout
            self._settle(running, StepOutcome(running.node.name, error=(
                f"StepTimeout: step {running.node.name!r} ran longer than its timeout of "
                f"{timeout:g} s"), duration_s=now - running.started))

    def _settle(self, running: _Running, outcome: StepOutcome) -> None:
        step, node = running.step, running.node
        step.attempts = running.attempt
        step.duration_s = outcome.duration_s or (time.perf_counter() - running.started)
        if outcome.ok:
            step.status, step.outputs = StepStatus.FINISHED, outcome.outputs or {}
            self._finish(node, step, running.inputs, outcome,
                         cache=bool(step.cache_key) and node.step.cache)
            return
        if outcome.pruned:  # not a failure to retry: the trial stops here
            step.status, step.error = StepStatus.PRUNED, outcome.error
            self._failed = self._pruned = True
            self._finish(node, step, running.inputs, outcome)
            return
        if running.attempt <= node.step.retries:
            pause = node.step.backoff * 2 ** (running.attempt - 1)
            again = _Running(node, step, running.inputs, running.attempt + 1, 0.0)
            self._retry_at.append((time.perf_counter() + pause, again))
            return
        step.status, step.error, step.traceback = StepStatus.FAILED, outcome.error, (
            outcome.traceback or outcome.error)
        self._failed = True
        self._finish(node, step, running.inputs, outcome)

    # -- recording -------------------------------------------------------------------------

    def _finish(self, node: Node, step: StepResult, inputs: dict[str, Any],
                outcome: StepOutcome | None, *, cache: bool = False) -> None:
        self.service.recorder.finish_step(step, inputs, outcome)
        self._record(node, step, cache=cache)

    def _record(self, node: Node, step: StepResult, *, cache: bool = False) -> None:
        """The step's row (and, ``cache``, its outputs under its cache key), in one write."""
        self.results[node.name] = step
        with self.service.metadata.write() as conn:
            repository.save_step(conn, self.run.run_id, self.positions[node.name], step)
            if cache and step.cache_key:
                repository.put_cached(conn, step.cache_key, step.outputs,
                                      step.step_run_id or "", now_ms())
        self._notify(step)

    def _notify(self, step: StepResult) -> None:
        if self.on_step is not None:
            self.on_step(step)

    def _kill(self) -> None:
        """Ctrl-C: stop the running steps and record them KILLED."""
        self.executor.stop(kill=True)
        for running in [*self._running.values(), *(r for _, r in self._retry_at)]:
            step = running.step
            step.status, step.attempts = StepStatus.KILLED, running.attempt
            step.duration_s = time.perf_counter() - running.started if running.started else 0.0
            step.error = "stopped by an interrupt (Ctrl-C)"
            self._finish(running.node, step, running.inputs, None)
        self._running.clear()
        self._retry_at.clear()
