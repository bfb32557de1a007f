"""Serving's plain types and the seams between its parts.

The inference server asks a ``DeploymentSource`` what to serve (and polls it, so traffic
changes and alias moves reach running servers), and hands every answered request to a
``PredictionLog`` (off the request path). Both are small protocols so each side can be
built and tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Route:
    """A share of a deployment's traffic: ``ref`` is a model reference of the deployment's
    model (``churn/3`` or ``churn@champion``), ``weight`` its relative share (> 0)."""

    ref: str
    weight: float


@dataclass(frozen=True)
class DeploymentState:
    """What a deployment serves at one revision. Every change makes a new revision, so
    rollback is "make the previous revision's state current again"."""

    name: str
    model: str
    routes: tuple[Route, ...]
    shadows: tuple[str, ...] = ()  # refs that get a copy of traffic; answers logged, never returned
    sticky_key: str | None = None  # request header or JSON field that pins a caller to one route
    revision: int = 1
    updated_time: int = 0
    updated_by: str = ""
    reason: str = ""
    log_masked: tuple[str, ...] = ()  # input columns stored as "***" in the inference log
    log_hashed: tuple[str, ...] = ()  # input columns stored as a salted blake3 hash


class DeploymentSource(Protocol):
    def current(self, name: str) -> DeploymentState:
        """The deployment's state now (raises gannet.core.errors.NotFound if unknown)."""
        ...


@dataclass
class LoggedPrediction:
    """One answered request, as the inference log receives it (one log row per input row)."""

    deployment: str
    model: str
    version: int
    request_id: str
    timestamp_ms: int
    inputs: Any  # the request's rows as checked by the signature: a pandas DataFrame or ndarray
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
