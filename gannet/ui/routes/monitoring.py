"""Monitoring: monitors per deployment, a monitor's reports as time series (drift share,
each feature's drift score, performance), its stored HTML report, and the alerts (rules
with their state per monitor, and the history of firing and resolved events).

The pages call what ``gannet monitor`` and ``gannet alerts`` call: ``list_monitors``,
``get_monitor``, ``list_monitor_reports``, ``list_alert_rules``, ``get_alert_history``;
the HTML report is ``render_page`` (``gannet monitor show --html``). A monitor watches a
deployment, so it is shown to whoever may read that deployment (``list_deployments``
answers only those): in a team, people see the monitors of their projects' deployments.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gannet.core.actor import restricted
from gannet.core.errors import NotFound
from gannet.monitoring.types import Monitor, MonitorReport
from gannet.ui.pages import page, services_of, shown
from gannet.ui.plots import series_figure

router = APIRouter(prefix="/ui", include_in_schema=False)

WINDOWS_SHOWN = 48
EVENTS_SHOWN = 50
FEATURES_CHARTED = 12
PERFORMANCE = ("performance.accuracy", "performance.roc_auc", "performance.f1",
               "performance.rmse", "labels.coverage")
# the report page draws with inline scripts (its own Plotly): they may run, sandboxed in a
# unique origin that can read nothing of this site's
REPORT_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                 "img-src data:; font-src data:; sandbox allow-scripts")


@router.get("/monitoring")
@shown("monitoring")
def monitoring(request: Request, deployment: str = "") -> Response:
    services = services_of(request)
    monitors = _visible(request, services.monitoring.list_monitors(deployment or None))
    names = {m.name for m in monitors}
    latest = {m.name: next(iter(services.monitoring.list_monitor_reports(m.name, 1)), None)
              for m in monitors}
    rules = [{**r, "states": [s for s in r["states"] if s["monitor"] in names
                              or (s["monitor"] == "*" and restricted() is None)]}
             for r in services.alerts.list_alert_rules()]
    events = [e for e in services.alerts.get_alert_history(limit=EVENTS_SHOWN)
              if e["monitor"] in names]
    title = f"Monitors of {deployment}" if deployment else "Monitoring"
    return page(request, "monitoring.html.j2", title, "monitoring", monitors=monitors,
                latest=latest, rules=rules, events=events, deployment=deployment)


@router.get("/monitoring/{name}")
@shown("monitoring")
def monitor(request: Request, name: str, limit: int = WINDOWS_SHOWN) -> Response:
    services = services_of(request)
    found = _one(request, name)
    reports = services.monitoring.list_monitor_reports(name, max(1, min(limit, 1000)))
    events = [e for e in services.alerts.get_alert_history(limit=EVENTS_SHOWN * 4)
              if e["monitor"] == name][:EVENTS_SHOWN]
    return page(request, "monitor.html.j2", f"Monitor {name}", "monitoring", monitor=found,
                reports=reports, figures=_figures(found, reports), events=events)


@router.get("/monitoring/{name}/report")
@shown("monitoring")
def report(request: Request, name: str, limit: int = WINDOWS_SHOWN) -> Response:
    """The monitor's self-contained HTML report, framed by the monitor's page."""
    from gannet.monitoring.page import render_page

    found = _one(request, name)
    reports = services_of(request).monitoring.list_monitor_reports(name, max(1, min(limit,
                                                                                    1000)))
    return HTMLResponse(render_page(found, reports),
                        headers={"content-security-policy": REPORT_POLICY})


def _visible(request: Request, monitors: list[Monitor]) -> list[Monitor]:
    if restricted() is None:  # embedded, or an administrator
        return monitors
    readable = {d.name for d in services_of(request).deployments.list_deployments()}
    return [m for m in monitors if m.deployment in readable]


def _one(request: Request, name: str) -> Monitor:
    found = services_of(request).monitoring.get_monitor(name)
    if not _visible(request, [found]):  # as if it did not exist, as the services do
        raise NotFound(f"no monitor named {name!r}", "gannet monitor list shows the monitors")
    return found


def _figures(monitor: Monitor, reports: list[MonitorReport]) -> dict[str, Any]:
    """Drift share against the monitor's threshold, each feature's drift score, and the
    performance numbers, oldest window first."""
    ordered = sorted(reports, key=lambda r: r.window_start)
    if not ordered:
        return {}
    times = [r.window_start for r in ordered]
    figures: dict[str, Any] = {"drift-share": series_figure(
        times, {"drift share": [r.metrics.get("drift.share") for r in ordered]},
        y_title="share of features drifted", threshold=monitor.options.drift_share,
        y_range=[0, 1.05])}
    columns: dict[str, list[float | None]] = {}
    for i, r in enumerate(ordered):
        for feature, result in (r.body.get("drift") or {}).get("columns", {}).items():
            test = result.get("test") or "score"
            # a test's p-value (low: drift) or a distance (high: drift), named in the legend
            label = f"{feature} ({test}{' p-value' if result.get('p_value') is not None else ''})"
            columns.setdefault(label, [None] * len(ordered))[i] = result.get("score")
    if columns:
        charted = dict(sorted(columns.items())[:FEATURES_CHARTED])
        figures["feature-drift"] = series_figure(
            times, charted, y_title="score (p-value: low is drift; distance: high)")
    performance = {k.split(".", 1)[1]: [r.metrics.get(k) for r in ordered]
                   for k in PERFORMANCE if any(k in r.metrics for r in ordered)}
    if performance:
        figures["performance"] = series_figure(times, performance, y_title="score")
    return figures
