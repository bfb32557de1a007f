"""One step's execution, wherever an executor runs it: ``execute(task)``.

A ``StepTask`` is what travels to a worker (pickled, for processes and Dask): the step (by
module and name), its inputs as constants and stored values, the timeout, and how to open
the blob store. The worker reads inputs from the blob store, runs the function with its
stdout and stderr captured, writes the outputs back through their materializers, and
returns a ``StepOutcome``: digests, captured text, timings, metrics, or the error and
its traceback. It never touches the metadata store: the coordinator records everything.
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gannet.pipelines.materializers import StoredValue, load_value, store_value
from gannet.pipelines.pruning import INTERMEDIATE, TrialPruned, TrialRef, should_stop
from gannet.store.blobs import BlobStore

_context = threading.local()
_opened: dict[Any, BlobStore] = {}
_opened_lock = threading.Lock()


class StepTimeout(Exception):
    """A step ran longer than its ``timeout``."""


@dataclass
class StepTask:
    node: str
    step: Any  # gannet.pipelines.dsl.Step: pickled by module and name
    inputs: dict[str, Any]  # constants, StoredValue (an upstream output), or lists of them
    open_blobs: Callable[[], BlobStore]
    timeout: float | None = None
    attempt: int = 1
    trial: TrialRef | None = None  # a sweep's trial with a pruner: ``report`` asks it
    run_id: str | None = None  # the step's run (``current_run_id``)


@dataclass
class StepOutcome:
    node: str
    outputs: dict[str, StoredValue] | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    traceback: str | None = None
    started_ms: int = 0
    duration_s: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[tuple[str, float, int, int]] = field(default_factory=list)  # key, value,
    # time, step: what ``report`` recorded
    pruned: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def log_metric(key: str, value: float) -> None:
    """Inside a step: record a metric on the step's run (``gannet.pipelines.log_metric``)."""
    metrics = getattr(_context, "metrics", None)
    if metrics is None:
        from gannet.core.errors import InvalidState

        raise InvalidState("log_metric is called inside a running pipeline step",
                           "use gannet.log_metric in a script with an active run")
    metrics[str(key)] = float(value)


def current_run_id() -> str:
    """Inside a step: the id of the step's own run, to log artifacts or a model to it (a
    model version registered from ``runs:/ID/model`` then has the step's lineage)."""
    run_id = getattr(_context, "run_id", None)
    if run_id is None:
        from gannet.core.errors import InvalidState

        raise InvalidState("current_run_id is called inside a running pipeline step",
                           "use gannet.active_run() in a script")
    return str(run_id)


def report(step: int, value: float) -> None:
    """Inside a step: an intermediate value of the step's work at ``step`` (an epoch, say),
    recorded as the metric ``intermediate_value``; in a trial of a sweep with a pruner,
    raises ``TrialPruned`` when the pruner stops the trial (``gannet.pipelines.report``)."""
    history = getattr(_context, "history", None)
    if history is None:
        from gannet.core.errors import InvalidState

        raise InvalidState("report is called inside a running pipeline step",
                           "use gannet.log_metric(key, value, step=...) in a script")
    history.append((INTERMEDIATE, float(value), int(time.time() * 1000), int(step)))
    trial = getattr(_context, "trial", None)
    if trial is not None and should_stop(trial, int(step), float(value)):
        raise TrialPruned(f"trial {trial.number} pruned at step {step} ({value:g})")


def execute(task: StepTask) -> StepOutcome:
    """Run ``task``'s step; every error of the step is in the outcome, none is raised."""
    outcome = StepOutcome(task.node, started_ms=int(time.time() * 1000))
    began = time.perf_counter()
    out, err = io.StringIO(), io.StringIO()
    _context.metrics, _context.history = outcome.metrics, outcome.history
    _context.trial, _context.run_id = task.trial, task.run_id
    try:
        blobs = _blobs(task.open_blobs)
        arguments = {k: _resolve(blobs, v) for k, v in task.inputs.items()}
        with (contextlib.redirect_stdout(out), contextlib.redirect_stderr(err),
              _deadline(task.timeout, task.node)):
            result = task.step.fn(**arguments)
        outcome.outputs = {
            name: store_value(blobs, value, task.node) for name, value in task.step.unpack(result)
        }
    except Exception as exc:  # the step's own failure: reported, never raised here
        outcome.error = f"{type(exc).__name__}: {exc}"
        outcome.traceback = "".join(traceback.format_exception(exc))
        outcome.pruned = isinstance(exc, TrialPruned)
    finally:
        _context.metrics = _context.history = _context.trial = _context.run_id = None
        outcome.stdout, outcome.stderr = out.getvalue(), err.getvalue()
        outcome.duration_s = time.perf_counter() - began
    return outcome


def _blobs(open_blobs: Callable[[], BlobStore]) -> BlobStore:
    """One opened blob store per process and opener (a worker runs many tasks)."""
    if isinstance(open_blobs, BlobStore):
        return open_blobs
    key = _key(open_blobs)
    with _opened_lock:
        store = _opened.get(key)
        if store is None:
            store = _opened[key] = open_blobs()
    return store


def _key(opener: Any) -> Any:
    args = getattr(opener, "args", None)
    if args is None:
        return opener
    return (opener.func, args, tuple(sorted(opener.keywords.items())))


def _resolve(blobs: BlobStore, value: Any) -> Any:
    if isinstance(value, StoredValue):
        return load_value(blobs, value)
    if isinstance(value, list):
        return [_resolve(blobs, v) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(blobs, v) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(blobs, v) for k, v in value.items()}
    return value


@contextlib.contextmanager
def _deadline(seconds: float | None, node: str) -> Iterator[None]:
    """Interrupt the step after ``seconds`` (in a process's main thread: elsewhere the
    coordinator stops waiting for it instead)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise StepTimeout(f"step {node!r} ran longer than its timeout of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
