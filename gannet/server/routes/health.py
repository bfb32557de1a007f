"""Liveness, readiness and the metrics scrape: public, cheap, for probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gannet.core.errors import GannetError, NotReady
from gannet.server import shapes
from gannet.server.deps import ServicesDep, answer
from gannet.server.errors import error_response, request_id_of

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers", response_model=shapes.STATUS)
def health() -> Response:
    return answer({"status": "ok"})


@router.get("/ready", summary="Readiness: the metadata store answers",
            response_model=shapes.STATUS)
def ready(request: Request, services: ServicesDep) -> Response:
    try:
        services.metadata.ping()
    except GannetError as exc:
        error = NotReady(f"the metadata store does not answer: {exc.message}", exc.hint)
        return error_response(error, request_id_of(request))
    return answer({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)
