"""scikit-learn autologging: every ``fit`` records its estimator's params, training score
and fit time, without the user writing a line.

The SDK hands in a ``Sink`` (how to find, start and end runs and log to them), so this
module stays below the SDK in the layering. Fits nested inside another logged fit
(a Pipeline's steps, a grid search's candidates) are not logged separately: the outer
fit is the one the user called.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any, Protocol

_state = threading.local()
_patched: dict[type, Any] = {}  # estimator class -> its original fit
_sink: Sink | None = None

MAX_PARAM_CHARS = 250  # nested estimators' reprs can be long; params are for reading


class Sink(Protocol):
    def active_run_id(self) -> str | None: ...
    def start_run(self, run_name: str) -> str: ...
    def end_run(self, run_id: str, error: BaseException | None) -> None: ...
    def log(
        self, run_id: str, params: dict[str, Any], metrics: dict[str, float], tags: dict[str, str]
    ) -> None: ...


def enable(sink: Sink) -> None:
    """Patch ``fit`` of every scikit-learn estimator (idempotent)."""
    global _sink
    from sklearn.utils import all_estimators

    _sink = sink
    for _, estimator in all_estimators():
        # fit may be inherited from a base class that all_estimators does not list
        # (RandomForestClassifier's comes from BaseForest): patch where it is defined.
        owner = next((k for k in estimator.__mro__ if "fit" in vars(k)), None)
        if owner is not None and owner not in _patched:
            _patched[owner] = vars(owner)["fit"]
            owner.fit = _logged_fit(vars(owner)["fit"])


def disable() -> None:
    global _sink
    for cls, fit in _patched.items():
        setattr(cls, "fit", fit)  # noqa: B010 - the class is any estimator type
    _patched.clear()
    _sink = None


def _logged_fit(fit: Any) -> Any:
    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _sink is None or getattr(_state, "depth", 0) > 0:
            return fit(self, *args, **kwargs)
        _state.depth = 1
        try:
            return _fit_and_log(_sink, fit, self, args, kwargs)
        finally:
            _state.depth = 0

    return wrapper


def _fit_and_log(sink: Sink, fit: Any, estimator: Any, args: tuple, kwargs: dict) -> Any:
    run_id = sink.active_run_id()
    owns_run = run_id is None
    if owns_run:
        run_id = sink.start_run(type(estimator).__name__)
    assert run_id is not None
    started = time.perf_counter()
    try:
        result = fit(estimator, *args, **kwargs)
    except BaseException as exc:
        if owns_run:
            sink.end_run(run_id, exc)
        raise
    metrics = {"fit_time_s": time.perf_counter() - started}
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    score = _training_score(estimator, X, y)
    if score is not None:
        metrics["training_score"] = score
    cls = type(estimator)
    sink.log(
        run_id,
        params={k: _short(v) for k, v in estimator.get_params(deep=True).items()},
        metrics=metrics,
        tags={
            "estimator_name": cls.__name__,
            "estimator_class": f"{cls.__module__}.{cls.__name__}",
        },
    )
    if owns_run:
        sink.end_run(run_id, None)
    return result


def _training_score(estimator: Any, X: Any, y: Any) -> float | None:
    if y is None or not hasattr(estimator, "score"):
        return None
    _state.depth = 2  # score may call predict -> fit of nothing, but stay quiet anyway
    try:
        return float(estimator.score(X, y))
    except Exception:  # some estimators cannot score their own training data; not an error
        return None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 3] + "..."
