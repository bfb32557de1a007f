"""Deployments: what an inference server serves, changed one revision at a time.

- ``types``: ``Route``, ``DeploymentState`` (one revision), ``DeploymentInfo`` (a state as
  people look at it), ``RouteSpec``, ``STATE_FORMAT``, ``traffic_shares``, and the
  ``DeploymentSource`` protocol servers poll
- ``tables``: the ``deployments`` and ``deployment_revisions`` tables
- ``repository``: all of their SQL, rows in and plain types out
- ``validation``: checks that need no store (names, refs, weights, sticky keys, columns)
- ``service``: ``DeploymentService`` - create, get, list, history, set traffic / shadows /
  sticky key / log fields, rollback, delete, bundle
- ``bundle``: the deployable bundle - Dockerfile, requirements, Kubernetes manifests

The names below load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "STATE_FORMAT": "types",
    "DeploymentInfo": "types",
    "DeploymentService": "service",
    "DeploymentSource": "types",
    "DeploymentState": "types",
    "Route": "types",
    "RouteSpec": "types",
    "traffic_shares": "types",
    "write_bundle": "bundle",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
