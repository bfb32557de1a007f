"""Deployments' plain types, and the seam the inference server reads them through.

The inference server asks a ``DeploymentSource`` what to serve, and polls it, so traffic
changes and alias moves reach running servers. ``DeploymentService`` is the source in
Gannet; a test or another store can be one too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "STATE_FORMAT",
    "DeploymentInfo",
    "DeploymentSource",
    "DeploymentState",
    "Route",
    "RouteSpec",
    "traffic_shares",
]

STATE_FORMAT = 1  # the "format" of a revision's stored state JSON; a newer one is refused

RouteSpec = Mapping[str | int, float]  # what callers give: ref or version -> relative weight


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
    project: str = "default"  # the project that owns the deployment (not part of a revision)
    # features the inference server adds to each request before predict (``view:feature``,
    # looked up by the request's entity keys), what it does when the online store is down
    # ("error": 503; "defaults": the defaults, counted) and each feature's default
    features: tuple[str, ...] = ()
    features_on_unavailable: str = "error"
    feature_defaults: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class DeploymentInfo:
    """A deployment as people look at it: its state, who made it, and what each ref is now."""

    state: DeploymentState
    description: str
    created_by: str
    creation_time: int
    resolved: dict[str, int | None]  # ref -> the version it resolves to now (None: it does not)


def traffic_shares(routes: Iterable[Route]) -> dict[str, float]:
    """Each route's share of the traffic in percent (weights are relative)."""
    routes = tuple(routes)
    total = sum(r.weight for r in routes)
    return {r.ref: 100.0 * r.weight / total for r in routes} if total > 0 else {}


class DeploymentSource(Protocol):
    def get_deployment_state(self, name: str) -> DeploymentState:
        """The deployment's state now (raises gannet.core.errors.NotFound if unknown)."""
        ...
