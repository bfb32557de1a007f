"""Continuous training: the policies (model, deployment, where each loop is), one policy
(its YAML, its stages with their weights and guards, its decisions with reasons and
numbers, a chart of the challenger's share of the traffic), and the buttons that approve
a stage, pause and resume a policy (POST forms, CSRF-checked).

The pages call what ``gannet policy`` calls: ``list_policies``, ``get_policy_status``,
``list_decisions``, ``approve_policy``, ``pause_policy``, ``resume_policy``. The service
decides who may (reading needs ``reader`` in the model's project, acting ``editor``); a
refusal is shown as the service words it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.training.types import Decision, Phase
from gannet.ui.pages import form_of, in_thread, page, see_other, services_of, shown
from gannet.ui.plots import iso

router = APIRouter(prefix="/ui", include_in_schema=False)

DECISIONS_SHOWN = 200
DONE = {"approved": "Stage approved: the controller moves its traffic next.",
        "paused": "Paused: the controller leaves this policy where it is.",
        "resumed": "Resumed: the controller moves this policy on again."}


@router.get("/policies")
@shown("monitoring")
def policies(request: Request, model: str = "", deployment: str = "") -> Response:
    found = services_of(request).training.list_policies()
    found = [s for s in found if (not model or s.model == model) and (
        not deployment or (s.policy is not None and s.policy.deployment == deployment))]
    title = "Continuous-training policies"
    if model or deployment:
        title += f" of {model or deployment}"
    return page(request, "policies.html.j2", title, "monitoring", policies=found,
                model=model, deployment=deployment)


@router.get("/policies/{name}")
@shown("monitoring")
def policy(request: Request, name: str, done: str = "") -> Response:
    service = services_of(request).training
    status = service.get_policy_status(name)
    decisions = service.list_decisions(name, DECISIONS_SHOWN)
    figure = weight_figure(list(reversed(decisions)))
    return page(request, "policy.html.j2", f"Policy {name}", "monitoring", status=status,
                spec=status.policy, decisions=decisions, figure=figure,
                done=DONE.get(done, ""), awaiting=status.phase == Phase.AWAITING_APPROVAL)


@router.post("/policies/{name}/approve")
@shown("monitoring")
async def approve(request: Request, name: str) -> Response:
    form = await form_of(request)
    service = services_of(request).training
    await in_thread(lambda: service.approve_policy(name, form.get("comment", "").strip()))
    return see_other(f"/ui/policies/{name}?done=approved")


@router.post("/policies/{name}/pause")
@shown("monitoring")
async def pause(request: Request, name: str) -> Response:
    await form_of(request)
    await in_thread(services_of(request).training.pause_policy, name)
    return see_other(f"/ui/policies/{name}?done=paused")


@router.post("/policies/{name}/resume")
@shown("monitoring")
async def resume(request: Request, name: str) -> Response:
    await form_of(request)
    await in_thread(services_of(request).training.resume_policy, name)
    return see_other(f"/ui/policies/{name}?done=resumed")


def weight_figure(decisions: list[Decision]) -> dict[str, Any] | None:
    """The challenger's percent of the deployment's traffic after each decision that moved
    it (oldest first): 0 when a cycle starts or rolls back, a stage's weight at each canary,
    100 once promoted. None before any rollout."""
    points: list[tuple[int, float, str]] = []
    for d in decisions:
        if d.action == "trigger":
            points.append((d.at, 0.0, "cycle starts"))
        elif d.action == "canary":
            points.append((d.at, float(d.numbers.get("weight", 0.0)),
                           f"stage {int(d.numbers.get('stage', 0)) + 1}"))
        elif d.action == "promote":
            points.append((d.at, 100.0, "promoted"))
        elif d.action == "rollback":
            points.append((d.at, 0.0, "rolled back"))
    if not any(label != "cycle starts" for _, _, label in points):
        return None
    trace = {"type": "scatter", "mode": "lines+markers", "line": {"shape": "hv"},
             "x": [iso(at) for at, _, _ in points], "y": [w for _, w, _ in points],
             "text": [label for _, _, label in points], "name": "challenger",
             "hovertemplate": "%{x}: %{y}% (%{text})<extra></extra>"}
    return {"data": [trace], "layout": {
        "height": 260, "showlegend": False,
        "xaxis": {"type": "date", "title": {"text": "time (UTC)"}},
        "yaxis": {"title": {"text": "challenger's traffic (%)"}, "range": [-5, 105]}}}
