"""The inference log's plain types, and the seam the inference server writes through.

The server hands every answered request to a ``PredictionLog``, off the request path;
``InferenceLogWriter`` is the one Gannet ships. A small protocol, so the server and the
log can each be built and tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["LoggedPrediction", "Matrix", "PredictionLog"]


@dataclass(frozen=True, slots=True)
class Matrix:
    """A request's rows as the server already holds them: one number matrix and its column
    names. Cheaper than a DataFrame on the request path; the log's background thread stacks
    thousands of them with one ``np.concatenate``."""

    names: tuple[str, ...]
    values: Any  # an (n x len(names)) numeric ndarray


@dataclass
class LoggedPrediction:
    """One answered request, as the inference log receives it (one log row per input row)."""

    deployment: str
    model: str
    version: int
    request_id: str
    timestamp_ms: int
    inputs: Any  # the request's rows as checked by the signature: a Matrix, a mapping of
    # column -> values (list or ndarray), a pandas DataFrame or an ndarray
    outputs: Any  # predictions, one per row (ndarray or list)
    latency_ms: float
    shadow: bool = False
    probabilities: Any = None  # optional (rows x classes) ndarray
    extra: dict[str, Any] = field(default_factory=dict)


class PredictionLog(Protocol):
    def log(self, prediction: LoggedPrediction) -> None:
        """Queue a prediction for writing; never blocks the request for I/O."""
        ...

    def close(self) -> None:
        """Write what is queued and stop."""
        ...
