"""Deployments: what an inference server serves, changed one revision at a time.

- ``types``: ``Route``, ``DeploymentState`` (one revision), ``DeploymentInfo`` (a state as
  people look at it), ``RouteSpec``, ``STATE_FORMAT``, ``traffic_shares``, and the
  ``DeploymentSource`` protocol servers poll
- ``tables``: the ``deployments`` and ``deployment_revisions`` tables
- ``repository``: all of their SQL, rows in and plain types out
- ``validation``: checks that need no store (names, refs, weights, sticky keys, columns)
- ``service``: ``DeploymentService`` - create, get, list, history, set traffic / shadows /
  sticky key / log fields / features, rollback, delete, bundle
- ``errors``: ``error_counts`` - the requests a deployment's inference servers answered with
  a 4xx or 5xx, per version, from their ``/metrics`` (``ui_inference_servers``)
- ``audit``: what a revision holds (``CONTENT``) and what the audit log keeps of a change
- ``bundle``: the deployable bundle - Dockerfile, requirements, Kubernetes manifests
- ``wheel``: the Gannet a bundle installs (a wheel of the checkout, or the release pinned)

The names below load on first use.
"""

from __future__ import annotations

from gannet.core.lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
