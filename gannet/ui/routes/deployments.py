"""Deployments: their traffic split and revisions; changing the traffic and rolling back
(POST forms, CSRF-checked); live traffic from the inference log (requests per minute and
latency percentiles by version, shadow versions' agreement with the primary), as charts
the page redraws from ``traffic.json`` every few seconds, with the failed requests (4xx
and 5xx) per version that the deployment's inference servers count on their ``/metrics``
(the servers the ``ui_inference_servers`` setting lists; failures are not logged).

Changing the traffic is ``set_deployment_traffic`` (a new revision); a rollback is
``rollback_deployment``: the revision before the current one, or the one chosen, becomes
current again as a new revision. The service decides who may.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gannet.core.clock import now_ms
from gannet.core.errors import GannetError, InvalidArgument, NotFound
from gannet.ui.pages import form_of, in_thread, page, see_other, services_of, shown
from gannet.ui.plots import traffic_figures

router = APIRouter(prefix="/ui", include_in_schema=False)

MINUTES = (15, 60, 360, 1440)  # the windows the live charts offer
POLL_S = 10  # how often the page asks traffic.json again


@router.get("/deployments")
@shown("deployments")
def deployments(request: Request, model: str | None = None) -> Response:
    found = services_of(request).deployments.list_deployments(model or None)
    title = f"Deployments of {model}" if model else "Deployments"
    return page(request, "deployments.html.j2", title, "deployments", deployments=found)


@router.get("/deployments/{name}")
@shown("deployments")
def deployment(request: Request, name: str, done: str = "", poll: int = POLL_S) -> Response:
    service = services_of(request).deployments
    info = service.get_deployment(name)
    history = service.get_deployment_history(name)
    return page(request, "deployment.html.j2", f"Deployment {name}", "deployments", info=info,
                history=history, done=done, minutes=MINUTES, poll_s=max(1, min(poll, 300)))


@router.get("/deployments/{name}/traffic.json")
def traffic(request: Request, name: str, minutes: int = 60) -> Response:
    """The live charts' data: the last ``minutes`` of the inference log, per minute (per
    five minutes beyond six hours). Who may not read the deployment gets its error."""
    services = services_of(request)
    try:
        services.deployments.get_deployment(name)  # the service decides who may read it
        if minutes not in MINUTES:
            raise InvalidArgument(f"minutes={minutes} is not offered",
                                  f"ask for one of {', '.join(map(str, MINUTES))}")
        found = _logged(services, name, minutes)
        found["errors"] = _errors(services.deployments.get_deployment_errors(name))
    except GannetError as exc:
        return JSONResponse({"error": exc.message, "hint": exc.hint},
                            status_code=exc.http_status)
    return JSONResponse(found)


def _logged(services: Any, name: str, minutes: int) -> dict[str, Any]:
    bucket_ms = 60_000 if minutes <= 360 else 300_000
    since = now_ms() - minutes * 60_000
    try:
        found = services.inference_log.traffic(name, (since // bucket_ms) * bucket_ms,
                                               bucket_ms)
    except NotFound:
        found = {"buckets": [], "shadows": []}
    requests = sum(b["requests"] for b in found["buckets"] if not b["shadow"])
    return {**traffic_figures(found["buckets"], bucket_ms), "shadows": found["shadows"],
            "requests": requests, "minutes": minutes, "bucket_s": bucket_ms // 1000,
            "at": now_ms()}


def _errors(counts: Any) -> dict[str, Any] | None:
    """The failed requests its inference servers counted, per version (None: the
    ``ui_inference_servers`` setting names no server of the deployment)."""
    if counts is None:
        return None
    return {"servers": list(counts.servers), "answered": list(counts.answered),
            "versions": [{"version": v.version, "requests": v.requests, "errors": v.errors,
                          "error_rate": v.error_rate, "codes": v.codes}
                         for v in counts.versions]}


@router.post("/deployments/{name}/traffic")
@shown("deployments")
async def set_traffic(request: Request, name: str) -> Response:
    """The weights as ``ref = weight`` lines (a ref: a version, an alias, ``@latest``)."""
    form = await form_of(request)
    routes = _routes(form.get("routes", ""))
    service = services_of(request).deployments
    state = await in_thread(lambda: service.set_deployment_traffic(
        name, routes, form.get("reason", "")))
    return see_other(f"/ui/deployments/{name}?done=traffic-{state.revision}")


def _routes(text: str) -> dict[str | int, float]:
    routes: dict[str | int, float] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        ref, sep, weight = line.rpartition("=")
        try:
            routes[ref.strip()] = float(weight)
        except ValueError:
            sep = ""
        if not sep or not ref.strip():
            raise InvalidArgument(f"traffic line {line.strip()!r} is not 'ref = weight'",
                                  "write one route per line, e.g. 'churn/2 = 0.1'")
    return routes


@router.post("/deployments/{name}/rollback")
@shown("deployments")
async def rollback(request: Request, name: str) -> Response:
    form = await form_of(request)
    to = form.get("to", "").strip()
    if to and not to.isdigit():
        raise InvalidArgument(f"revision {to!r} is not a number", "pick a revision listed")
    service = services_of(request).deployments
    state = await in_thread(lambda: service.rollback_deployment(
        name, form.get("reason", ""), to=int(to) if to else None))
    return see_other(f"/ui/deployments/{name}?done=rolled-back-{state.revision}")
