"""``create_app``: the control plane's ASGI application over one ``Services``.

FastAPI for the routes (request bodies validated and documented in the OpenAPI at
``/openapi.json``, interactive at ``/docs``), wrapped by ``ServerMiddleware`` (request
ids, the body limit, authentication) and the request metrics. Routers come one per
capability from ``gannet.server.routes``; the MLflow-compatible API mounts under
``/api/2.0/mlflow/``. No route holds state: every answer comes from the services'
stores, so replicas over one database and one object store answer alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from gannet.core.actor import Actor
from gannet.core.version import VERSION
from gannet.server.deps import API_PREFIX
from gannet.server.errors import install_error_handlers
from gannet.server.metrics import ServerMetrics
from gannet.server.middleware import Authenticate, ServerMiddleware
from gannet.serving.server.docs import STATIC, SwaggerDocs

if TYPE_CHECKING:
    from gannet.bootstrap import Services

__all__ = ["API_PREFIX", "create_app"]

PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/openapi.json", "/docs", f"{API_PREFIX}/login")
PUBLIC_PREFIXES = (STATIC, f"{API_PREFIX}/oidc/")
STREAMING_PREFIXES = (
    f"{API_PREFIX}/blobs/", f"{API_PREFIX}/model-packages/blobs/", "/api/2.0/mlflow-artifacts/")


def create_app(
    services: Services, *, auth: bool = True, authenticate: Authenticate | None = None
) -> Any:
    """The ASGI app. ``auth=False`` (``gannet server --no-auth``) treats every caller as
    an administrator named by the ``user`` setting; ``authenticate`` replaces the store's
    own check of credentials (tests of the middleware)."""
    api = FastAPI(
        title="Gannet",
        version=VERSION,
        summary="The Gannet control plane: tracking, registry, deployments, audit",
        docs_url=None,
        redoc_url=None,
    )
    api.state.services = services
    api.state.metrics = ServerMetrics(extra=_monitor_metrics(services))
    api.state.auth_required = auth
    install_error_handlers(api)
    for router in _routers():
        api.include_router(router)
    _install_docs(api)
    if authenticate is None:
        authenticate = services.auth.authenticate if auth else _anyone(services)
    wrapped = ServerMiddleware(
        api.state.metrics.wrap(api),
        authenticate=authenticate,
        max_body_bytes=services.settings.server_max_body,
        public_paths=PUBLIC_PATHS,
        public_prefixes=PUBLIC_PREFIXES,
        streaming_prefixes=STREAMING_PREFIXES,
    )
    wrapped.api = api  # type: ignore[attr-defined]  # tests and the runner reach FastAPI's app
    return wrapped


def _routers() -> list[APIRouter]:
    """Every capability's router; each declares its own prefix, so that a route's path
    (the metrics' route label) is the whole template."""
    from gannet.server.mlflow import api_router
    from gannet.server.routes import (
        artifacts,
        auth,
        deployments,
        health,
        logs,
        oidc,
        packages,
        registry,
        runs,
        tracking,
    )

    return [health.router, tracking.router, runs.router, artifacts.router, auth.router,
            registry.router, packages.router, deployments.router, logs.router, oidc.router,
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
