"""Deployments: their traffic split and revisions; changing the traffic and rolling back
(POST forms, CSRF-checked).

Changing the traffic is ``set_deployment_traffic`` (a new revision); a rollback is
``rollback_deployment``: the revision before the current one, or the one chosen, becomes
current again as a new revision. The service decides who may.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import InvalidArgument
from gannet.ui.pages import form_of, in_thread, page, see_other, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/deployments")
@shown("deployments")
def deployments(request: Request, model: str | None = None) -> Response:
    found = services_of(request).deployments.list_deployments(model or None)
    title = f"Deployments of {model}" if model else "Deployments"
    return page(request, "deployments.html.j2", title, "deployments", deployments=found)


@router.get("/deployments/{name}")
@shown("deployments")
def deployment(request: Request, name: str, done: str = "") -> Response:
    service = services_of(request).deployments
    info = service.get_deployment(name)
    history = service.get_deployment_history(name)
    return page(request, "deployment.html.j2", f"Deployment {name}", "deployments", info=info,
                history=history, done=done)


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
