"""The MLflow-compatible REST API: unchanged MLflow scripts and tools against a Gannet server.

``MLFLOW_TRACKING_URI=http://gannet:5005`` points MLflow's client here. Every route is
served under ``/api/2.0/mlflow/`` (the client's) and ``/ajax-api/2.0/mlflow/`` (MLflow's
web UI's), the artifact proxy under ``/api/2.0/mlflow-artifacts/`` (and its twin).
Routes translate MLflow's messages into service calls and our types back into MLflow's
JSON; the rules stay in the services, as for ``/api/v1``.

- ``experiments``, ``runs``: tracking (the run search is the tracking service's own,
  which speaks MLflow's filter language)
- ``artifacts``: the artifact proxy and the run artifact listing
- ``logged_models``: MLflow 3's logged models (what ``log_model`` makes)
- ``registered_models``, ``model_versions``: the model registry; creating a version makes
  a Gannet model version of the MLflow model folder
- ``translate``: our types in MLflow's JSON shapes; ``locations``: what an artifact path
  or a model source URI points at; ``messages``: request parts, answers, paging
- ``workspaces``: MLflow 3's workspaces are Gannet's projects (``server-info``, the
  ``X-MLFLOW-WORKSPACE`` header)
- ``errors``: errors in MLflow's shape (``{"error_code", "message"}``), which
  ``gannet.server.errors`` uses for every path of this API
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

__all__ = ["PREFIXES", "PROXY_PREFIXES", "TRACKING_PREFIXES", "api_router", "hot_routes",
           "proxy_router", "tracking_router"]

PREFIXES = ("/api/2.0", "/ajax-api/2.0")
V3_PREFIXES = ("/api/3.0", "/ajax-api/3.0")  # MLflow 3's few routes of its own
# what a request's path starts with, for each of the two routers
PROXY_PREFIXES = tuple(f"{prefix}/mlflow-artifacts/" for prefix in PREFIXES)
TRACKING_PREFIXES = tuple(f"{prefix}/mlflow/" for prefix in PREFIXES + V3_PREFIXES)


@functools.cache
def api_router() -> APIRouter:
    """Every MLflow route (the OpenAPI document's view of this API)."""
    api = APIRouter()
    api.include_router(tracking_router())
    api.include_router(proxy_router())
    return api


@functools.cache
def tracking_router() -> APIRouter:
    """The tracking and registry routes under both prefixes (the ``/ajax-api`` twin out of
    the OpenAPI document); built when the first app is made, so importing the errors
    module stays light, and once per process: routes hold no state, every app includes
    the same."""
    from gannet.server.mlflow import (
        artifacts,
        experiments,
        logged_models,
        model_versions,
        registered_models,
        runs,
        workspaces,
    )

    api = APIRouter()
    for prefix in PREFIXES:
        for area in (runs.router, experiments.router, artifacts.router, logged_models.router,
                     registered_models.router, model_versions.router):
            _mount(api, area, f"{prefix}/mlflow", prefix == PREFIXES[0])
    for prefix in V3_PREFIXES:
        _mount(api, workspaces.router, f"{prefix}/mlflow", prefix == V3_PREFIXES[0])
    return api


@functools.cache
def proxy_router() -> APIRouter:
    """The artifact proxy under both prefixes (``PROXY_PREFIXES``)."""
    from gannet.server.mlflow import artifacts

    api = APIRouter()
    for prefix in PREFIXES:
        _mount(api, artifacts.proxy, f"{prefix}/mlflow-artifacts", prefix == PREFIXES[0])
    return api


def hot_routes() -> list[tuple[str, type[BaseModel], Callable[..., Any]]]:
    """The writes MLflow's client sends one per logged value, under both prefixes, for
    ``gannet.server.fast_routes``: (path, body model, endpoint)."""
    from gannet.server.mlflow import runs

    hot: list[tuple[str, type[BaseModel], Callable[..., Any]]] = [
        ("runs/log-metric", runs.LogMetric, runs.log_metric),
        ("runs/log-parameter", runs.LogParam, runs.log_param),
        ("runs/set-tag", runs.LogParam, runs.set_tag),
        ("runs/log-batch", runs.LogBatch, runs.log_batch)]
    return [(f"{prefix}/mlflow/{path}", model, endpoint)
            for prefix in PREFIXES for path, model, endpoint in hot]


def _mount(api: APIRouter, area: APIRouter, prefix: str, in_schema: bool) -> None:
    """``area``'s routes at ``prefix``: each route's path is then its whole template (the
    metrics' route label tells ``/api`` from ``/ajax-api``)."""
    for route in area.routes:
        assert isinstance(route, APIRoute)
        api.add_api_route(prefix + route.path, route.endpoint, methods=sorted(route.methods or ()),
                          summary=route.summary, tags=route.tags, name=route.name,
                          include_in_schema=in_schema)
