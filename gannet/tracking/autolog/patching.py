"""How autolog wraps a library's training calls, and how it takes every wrapper off again.

A wrapped call logs only when it is the outermost one on its thread (a thread-local depth):
a Pipeline's steps, a grid search's candidates and the LabelEncoder LightGBM fits inside
``LGBMClassifier.fit`` run inside the call the user made and stay quiet. Nothing that goes
wrong while logging reaches the user's training: it becomes an ``AutologWarning``.

Libraries are patched when they are imported (a post-import hook), so ``gannet.autolog()``
imports none of them itself.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol


class AutologWarning(UserWarning):
    """Autolog could not log something; the training itself went on unharmed."""


class Sink(Protocol):
    """What autolog needs from the SDK (given by the SDK, so tracking never imports it)."""

    def active_run_id(self) -> str | None: ...
    def start_run(self, run_name: str, flavor: str) -> str: ...
    def end_run(self, run_id: str, error: BaseException | None) -> None: ...
    def log(
        self, run_id: str, params: dict[str, str], metrics: dict[str, float], tags: dict[str, str]
    ) -> None: ...
    def log_history(self, run_id: str, history: Mapping[str, Sequence[float]]) -> None: ...
    def log_model(self, run_id: str, model: Any, input_example: Any) -> None: ...
    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None: ...


@dataclass
class Call:
    """One training call about to run: its (possibly amended) arguments and what to log."""

    args: tuple
    kwargs: dict[str, Any]
    flavor: str
    run_name: str
    starts_run: bool  # may it start a run of its own when none is active?
    after: Callable[[RunLogger, Any], None]


Prepare = Callable[[tuple, dict[str, Any]], Call | None]


@dataclass
class RunLogger:
    """Collects what one call logs and sends it to the run; each part fails on its own."""

    sink: Sink
    run_id: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def attempt(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # logging must never break the user's training
            warn(what, exc)

    def flush(self) -> None:
        self.attempt(
            "params, metrics and tags",
            lambda: self.sink.log(self.run_id, self.params, self.metrics, self.tags),
        )


def warn(what: str, exc: BaseException) -> None:
    warnings.warn(
        f"gannet autolog could not log {what}: {type(exc).__name__}: {exc} "
        "(the training itself was not affected)",
        AutologWarning,
        stacklevel=4,
    )


# -- the wrapper -----------------------------------------------------------------------------

_local = threading.local()
_sink: Sink | None = None


def set_sink(sink: Sink | None) -> None:
    global _sink
    _sink = sink


def wrap(original: Callable[..., Any], prepare: Prepare) -> Callable[..., Any]:
    """``original`` logging through ``prepare`` when it is the outermost training call."""

    @functools.wraps(original)
    def patched(*args: Any, **kwargs: Any) -> Any:
        sink = _sink
        if sink is None or getattr(_local, "inside", False):
            return original(*args, **kwargs)
        _local.inside = True
        try:
            return _logged_call(sink, original, prepare, args, kwargs)
        finally:
            _local.inside = False

    return patched


def _logged_call(
    sink: Sink, original: Callable[..., Any], prepare: Prepare, args: tuple, kwargs: dict
) -> Any:
    try:
        call = prepare(args, kwargs)
    except Exception as exc:
        warn("this call", exc)
        call = None
    if call is None:
        return original(*args, **kwargs)
    run_id, owns = _run_for(sink, call)
    if run_id is None:
        return original(*call.args, **call.kwargs)
    started = time.perf_counter()
    try:
        result = original(*call.args, **call.kwargs)
    except BaseException as exc:
        if owns:
            _end(sink, run_id, exc)
        raise
    logger = RunLogger(sink, run_id, metrics={"fit_time_s": time.perf_counter() - started})
    try:
        call.after(logger, result)
    except Exception as exc:
        warn("the training", exc)
    logger.flush()
    if owns:
        _end(sink, run_id, None)
    return result


def _run_for(sink: Sink, call: Call) -> tuple[str | None, bool]:
    """The active run, or a new one when this call may start one (MLflow's rule)."""
    try:
        run_id = sink.active_run_id()
        if run_id is not None:
            return run_id, False
        if not call.starts_run:
            return None, False
        return sink.start_run(call.run_name, call.flavor), True
    except Exception as exc:
        warn("a run for this training", exc)
        return None, False


def _end(sink: Sink, run_id: str, error: BaseException | None) -> None:
    try:
        sink.end_run(run_id, error)
    except Exception as exc:
        warn(f"the end of run {run_id}", exc)


# -- patches and their undoing -----------------------------------------------------------------


@dataclass
class Patch:
    owner: Any  # a class or a module
    name: str
    own: Any  # the attribute the owner itself had (None when it was inherited)


_patches: list[Patch] = []


def patch_all(targets: Sequence[tuple[Any, str, Callable[..., Any]]], prepare: Prepare) -> None:
    """Wrap each (owner, name, original); all originals are read before any is replaced."""
    for owner, name, original in targets:
        own = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name)
        _patches.append(Patch(owner, name, own))
        setattr(owner, name, wrap(original, prepare))


def unpatch_all() -> None:
    while _patches:
        p = _patches.pop()
        if p.own is None:
            delattr(p.owner, p.name)
        else:
            setattr(p.owner, p.name, p.own)


# -- patching a library when it is imported ----------------------------------------------------


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs a hook right after a watched module has been imported."""

    def __init__(self, hooks: dict[str, Callable[[ModuleType], None]]) -> None:
        self.hooks = hooks
        self._finding: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.hooks or fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.discard(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _HookedLoader(spec.loader, self.hooks[fullname])
        return spec


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, hook: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._hook(module)

    def __getattr__(self, name: str) -> Any:  # resource readers, get_data, ...
        return getattr(self._loader, name)


_finder: _AfterImport | None = None


def when_imported(hooks: dict[str, Callable[[ModuleType], None]]) -> None:
    """Run each hook now for modules already imported, else right after their import."""
    global _finder
    guarded = {name: _guarded(name, hook) for name, hook in hooks.items()}
    for name, hook in guarded.items():
        if name in sys.modules:
            hook(sys.modules[name])
    _finder = _AfterImport({n: h for n, h in guarded.items() if n not in sys.modules})
    sys.meta_path.insert(0, _finder)


def stop_watching() -> None:
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None


def _guarded(name: str, hook: Callable[[ModuleType], None]) -> Callable[[ModuleType], None]:
    done = False

    def run(module: ModuleType) -> None:
        nonlocal done
        if done:
            return
        done = True
        try:
            hook(module)
        except Exception as exc:  # a library version we do not know: log less, break nothing
            warn(f"the training calls of {name}", exc)

    return run
