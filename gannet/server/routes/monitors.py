"""``/api/v1`` monitoring routes: monitors (create, list, get, delete, run), their reports
as JSON and as the self-contained HTML page, and the alert rules, their history and
silences. Each route is one ``MonitorService`` or ``AlertService`` call of the same name.

A monitor's reference is what the server can read itself: a window of the deployment's log
(``log:first:1000``), a dataset version (``dataset:churn@3``), or a Parquet table the client
uploaded before (``blob:<digest>``, sent as any blob: ``PUT /blobs/{digest}``). Never a path:
the server reads no file a caller names. Readers read monitors and alerts, editors create,
run and silence them; only administrators replace the alert rules (they name where the
server sends alerts).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["monitoring"])

MONITOR = "/monitors/{name}"
SERVER_SIDE = ("log:", "dataset:", "blob:")


class NewMonitor(BaseModel):
    deployment: str
    reference: str = Field(description="log:first:N, log:FROM/TO, dataset:NAME@VERSION, or "
                           "blob:<digest> of an uploaded Parquet table (never a path)")
    reference_source: str | None = Field(
        default=None, description="what the monitor shows as its reference's source")
    name: str | None = Field(default=None, description="default: the deployment's name")
    window: str = Field(default="hour", description="hour, day, or rows:N")
    features: list[str] | None = Field(default=None, description="default: every column")
    slices: list[str] | None = None
    method: str | dict[str, str] = "auto"
    threshold: float | dict[str, float] | None = None
    correction: str | None = Field(default=None, description="bh: Benjamini-Hochberg")
    drift_share: float | None = None
    min_rows: int | None = Field(default=None, ge=1)
    task: str | None = Field(default=None, description="classification, regression, auto")
    label_horizon: str | float = "7d"
    sample_rows: int | None = Field(default=None, ge=0)


    @field_validator("reference")
    @classmethod
    def _server_side(cls, value: str) -> str:
        if not value.startswith(SERVER_SIDE):
            raise ValueError(
                "the server reads no file a caller names: give log:..., dataset:NAME@V, or "
                "upload the table (PUT /api/v1/blobs/<digest>) and give blob:<digest> (the "
                "SDK and gannet monitor create do this with a local file)")
        return value


class RunBody(BaseModel):
    now: int | None = Field(default=None, description="the run's time (ms); default: now")


class Rules(BaseModel):
    text: str = Field(description="the YAML of notifiers and rules (docs/monitoring.md)")
    where: str = Field(default="the rules", description="named in errors")


class Silence(BaseModel):
    seconds: float = Field(gt=0)
    monitor: str | None = Field(default=None, description="default: every monitor")


@router.post("/monitors", status_code=201, summary="Create a monitor of a deployment's log",
             response_model=shapes.MONITOR)
def create_monitor(body: NewMonitor, services: ServicesDep) -> Response:
    options: dict[str, Any] = body.model_dump(exclude={"deployment", "reference",
                                                       "reference_source", "name", "window",
                                                       "label_horizon"})
    monitor = services.monitoring.create_monitor(
        body.deployment, body.reference, name=body.name, window=body.window,
        label_horizon=body.label_horizon, described_as=body.reference_source, **options)
    return answer({"monitor": monitor.to_dict()}, 201)


@router.get("/monitors", summary="The monitors (of one deployment)",
            response_model=shapes.MONITORS)
def list_monitors(services: ServicesDep, deployment: str | None = None) -> Response:
    monitors = services.monitoring.list_monitors(deployment)
    return answer({"monitors": [m.to_dict() for m in monitors]})


@router.get(MONITOR, summary="A monitor", response_model=shapes.MONITOR)
def get_monitor(name: str, services: ServicesDep) -> Response:
    return answer({"monitor": services.monitoring.get_monitor(name).to_dict()})


@router.delete(MONITOR, summary="Delete a monitor and its reports", response_model=shapes.DONE)
def delete_monitor(name: str, services: ServicesDep) -> Response:
    services.monitoring.delete_monitor(name)
    return answer({})


@router.post(MONITOR + "/runs", summary="Run a monitor over the log rows new since its "
             "last run", response_model=shapes.MONITOR_RUN)
def run_monitor(name: str, body: RunBody, services: ServicesDep) -> Response:
    summary = services.monitoring.run_monitor(name, now=body.now)
    return answer({"run": summary.to_dict()})


@router.get(MONITOR + "/reports", summary="A monitor's reports, newest window first",
            response_model=shapes.MONITOR_REPORTS)
def list_monitor_reports(name: str, services: ServicesDep,
                         limit: int = Query(default=24, ge=1, le=10_000)) -> Response:
    reports = services.monitoring.list_monitor_reports(name, limit=limit)
    return answer({"reports": [r.to_dict() for r in reports]})


@router.get(MONITOR + "/page", summary="A monitor's reports as a self-contained HTML page",
            response_class=Response, responses={200: {"content": {"text/html": {}}}})
def monitor_page(name: str, services: ServicesDep,
                 limit: int = Query(default=24, ge=1, le=10_000)) -> Response:
    from gannet.monitoring.page import render_page

    monitor = services.monitoring.get_monitor(name)
    reports = services.monitoring.list_monitor_reports(name, limit=limit)
    return Response(render_page(monitor, reports), media_type="text/html; charset=utf-8")


# -- alerts -----------------------------------------------------------------------------------


@router.put("/alert-rules", summary="Replace the alert rules (administrators only)",
            response_model=shapes.ALERT_RULES)
def apply_alert_rules(body: Rules, services: ServicesDep) -> Response:
    rules = services.alerts.apply_alert_rules(body.text, body.where)
    return answer({"rules": [r.to_dict() for r in rules]})


@router.get("/alert-rules", summary="The alert rules, each with its state per monitor",
            response_model=shapes.ALERT_RULES)
def list_alert_rules(services: ServicesDep) -> Response:
    return answer({"rules": services.alerts.list_alert_rules()})


@router.get("/alert-history", summary="Alerts that fired and resolved, newest first",
            response_model=shapes.ALERT_EVENTS)
def get_alert_history(services: ServicesDep, rule: str | None = None,
                      limit: int = Query(default=100, ge=1, le=10_000)) -> Response:
    return answer({"events": services.alerts.get_alert_history(rule, limit)})


@router.post("/alert-rules/{rule}/silence", summary="No pages from a rule for a while",
             response_model=shapes.SILENCED)
def silence_alert(rule: str, body: Silence, services: ServicesDep) -> Response:
    until = services.alerts.silence_alert(rule, body.seconds, body.monitor)
    return answer({"rule": rule, "monitor": body.monitor, "silenced_until": until})
