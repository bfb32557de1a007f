"""``create_app``: the control plane's ASGI application over one ``Services``.

FastAPI for the routes (request bodies validated and documented in the OpenAPI at
``/openapi.json``, interactive at ``/docs``), wrapped by ``ServerMiddleware`` (request
ids, the body limit, authentication), ``IdempotentPosts`` (a retried POST answered once),
the request metrics and ``FastRoutes`` (MLflow's per-value writes, routed by a lookup).
Routers come one per capability from ``gannet.server.routes``; the MLflow-compatible API
mounts under ``/api/2.0/mlflow/``, the web UI (``gannet.ui``) at ``/`` and ``/ui/``. No
route holds state: every answer comes from the services' stores, so replicas over one
database and one object store answer alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from gannet.core.actor import Actor
from gannet.core.version import VERSION
from gannet.server.deps import API_PREFIX
from gannet.server.errors import install_error_handlers
from gannet.server.fast_routes import FastRoutes
from gannet.server.idempotency import IdempotentPosts
from gannet.server.metrics import ServerMetrics
from gannet.server.middleware import Authenticate, ServerMiddleware
from gannet.server.mlflow import (
    PROXY_PREFIXES,
    TRACKING_PREFIXES,
    hot_routes,
    proxy_router,
    tracking_router,
)
from gannet.serving.server.docs import STATIC, SwaggerDocs
from gannet.ui.app import UI_PUBLIC_PATHS, UI_PUBLIC_PREFIXES, mount_ui, with_sessions

if TYPE_CHECKING:
    from gannet.bootstrap import Services

__all__ = ["API_PREFIX", "create_app"]

PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/openapi.json", "/docs", f"{API_PREFIX}/login")
PUBLIC_PREFIXES = (STATIC, f"{API_PREFIX}/oidc/")
STREAMING_PREFIXES = (
    f"{API_PREFIX}/blobs/", "/api/2.0/mlflow-artifacts/")


def create_app(
    services: Services, *, auth: bool = True, authenticate: Authenticate | None = None
) -> Any:
    """The ASGI app. ``auth=False`` (``gannet server --no-auth``) treats every caller as
    an administrator named by the ``user`` setting; ``authenticate`` replaces the store's
    own check of credentials (tests of the middleware)."""
    metrics = ServerMetrics(extra=_monitor_metrics(services))
    api = _fastapi(services, auth, metrics, _routers())
    _install_docs(api)
    mount_ui(api)
    routed = _by_prefix(api, [
        (PROXY_PREFIXES, _fastapi(services, auth, metrics, [proxy_router()])),
        (TRACKING_PREFIXES, _fastapi(services, auth, metrics, [tracking_router()])),
    ])
    recall = None
    if authenticate is None:
        authenticate = services.auth.authenticate if auth else _anyone(services)
        recall = services.auth.recall if auth else None
    direct = FastRoutes(routed, services, hot_routes())
    once = IdempotentPosts(metrics.wrap(direct), services.replies, prefix=API_PREFIX,
                           streaming_prefixes=STREAMING_PREFIXES)
    wrapped = ServerMiddleware(
        once,
        authenticate=authenticate,
        max_body_bytes=services.settings.server_max_body,
        public_paths=PUBLIC_PATHS + UI_PUBLIC_PATHS,
        public_prefixes=PUBLIC_PREFIXES + UI_PUBLIC_PREFIXES,
        streaming_prefixes=STREAMING_PREFIXES,
        recall=recall,
    )
    return with_sessions(wrapped, api)  # the web UI's pages (docs/ui.md); `.api`: FastAPI's app


def _fastapi(services: Services, auth: bool, metrics: ServerMetrics,
             routers: list[APIRouter]) -> FastAPI:
    api = FastAPI(
        title="Gannet",
        version=VERSION,
        summary="The Gannet control plane: tracking, registry, deployments, datasets, "
                "monitoring, features, audit",
        docs_url=None,
        redoc_url=None,
    )
    api.state.services = services
    api.state.metrics = metrics
    api.state.auth_required = auth
    install_error_handlers(api)
    for router in routers:
        api.include_router(router)
    return api


def _by_prefix(default: Any, routes: list[tuple[tuple[str, ...], Any]]) -> Any:
    """``default``, but a request whose path starts with one of a pair's prefixes goes to
    that pair's app: FastAPI matches a path against its routes one by one, so MLflow's
    client (one request per file it uploads) is matched only against MLflow's routes.
    The default app still has every route, for the OpenAPI document."""

    async def route(scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        for prefixes, app in routes:
            if path.startswith(prefixes):
                await app(scope, receive, send)
                return
        await default(scope, receive, send)

    return route


def _routers() -> list[APIRouter]:
    """Every capability's router; each declares its own prefix, so that a route's path
    (the metrics' route label) is the whole template."""
    from gannet.server.mlflow import api_router
    from gannet.server.routes import (
        artifacts,
        auth,
        data,
        datasets,
        deployments,
        features,
        health,
        logs,
        monitors,
        oidc,
        packages,
        registry,
        runs,
        tracking,
        training,
    )

    return [health.router, tracking.router, runs.router, artifacts.router, auth.router,
            registry.router, packages.router, deployments.router, logs.router, oidc.router,
            data.router, datasets.router, monitors.router, features.router, training.router,
            api_router()]


def _anyone(services: Services) -> Authenticate:
    """Without auth every caller acts as the server's ``user`` setting, an administrator."""
    user = services.settings.user or "anonymous"

    def authenticate(authorization: str | None, address: str | None) -> Actor:
        return Actor(user=user, address=address, via="none", admin=True)

    return authenticate


def _install_docs(api: FastAPI) -> None:
    docs = SwaggerDocs("Gannet API")

    @api.get("/docs", include_in_schema=False)
    def page() -> Response:
        body, content_type = docs.page()
        return Response(body, media_type=content_type.decode())

    @api.get(STATIC + "{name}", include_in_schema=False)
    def static(request: Request, name: str) -> Response:
        body, content_type = docs.static(STATIC + name)
        return Response(body, media_type=content_type.decode())


def _monitor_metrics(services: Services) -> list[Any]:
    """The monitors' outputs as a Prometheus collector (read at each scrape)."""
    from gannet.monitoring.prometheus import MonitorCollector

    return [MonitorCollector(services.monitoring)]
