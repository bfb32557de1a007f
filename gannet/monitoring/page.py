"""A monitor's reports as one self-contained HTML page with Plotly plots.

plotly.js is inlined from the installed ``plotly`` package (no CDN: the page opens
offline); the page shows the time series of drift share, prediction drift and
performance, the latest window's drift score per feature, its drift table and its quality
issues. Needs the ``monitoring`` extra (``pip install gannet-mlops[monitoring]``).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import TYPE_CHECKING, Any

from gannet.core.errors import NotSupported
from gannet.stats.dataset_drift import ColumnDrift, DriftReport
from gannet.stats.html import drift_table

if TYPE_CHECKING:
    from gannet.monitoring.types import Monitor, MonitorReport

__all__ = ["render_page"]

_SERIES = ("drift.share", "prediction_drift.score", "performance.accuracy",
           "performance.roc_auc", "performance.f1", "performance.rmse", "labels.coverage")


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise NotSupported("HTML reports need plotly",
                           hint="pip install 'gannet-mlops[monitoring]'") from None
    return go


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_page(monitor: Monitor, reports: list[MonitorReport]) -> str:
    """The page (reports newest first, as ``list_monitor_reports`` gives them)."""
    import plotly.io as pio

    go = _plotly()
    ordered = sorted(reports, key=lambda r: r.window_start)
    times = [dt.datetime.fromtimestamp(r.window_start / 1000, dt.UTC) for r in ordered]
    series = go.Figure()
    for name in _SERIES:
        values = [r.metrics.get(name) for r in ordered]
        if any(v is not None for v in values):
            series.add_trace(go.Scatter(x=times, y=values, mode="lines+markers", name=name))
    series.update_layout(title="Over time", height=380, margin={"t": 40})
    parts = [pio.to_html(series, include_plotlyjs=True, full_html=False)]
    latest = ordered[-1] if ordered else None
    if latest is not None:
        columns = latest.body["drift"]["columns"]
        scored = {n: c for n, c in columns.items() if c.get("score") is not None}
        bars = go.Figure(go.Bar(
            x=list(scored), y=[c["score"] for c in scored.values()],
            marker_color=["#b00020" if c["drifted"] else "#4a7" for c in scored.values()]))
        bars.update_layout(title="Latest window: drift score per feature (p-value or "
                           "distance)", height=360, margin={"t": 40})
        parts.append(pio.to_html(bars, include_plotlyjs=False, full_html=False))
        report = DriftReport({n: ColumnDrift(**c) for n, c in columns.items()},
                             drift_share=latest.body["drift"]["drift_share"])
        parts.append(drift_table(report))
        issues = latest.body["quality"]["issues"]
        parts.append("<h3>Data quality</h3><ul>" + "".join(
            f"<li>{escape(i)}</li>" for i in issues) + "</ul>" if issues
            else "<h3>Data quality</h3><p>no issues</p>")
    head = (f"<h1>Monitor {escape(monitor.name)}</h1><p>deployment "
            f"<b>{escape(monitor.deployment)}</b>; reference {escape(monitor.reference_source)}"
            f"; window {escape(monitor.options.window)}; {len(reports)} reports"
            + (f"; latest {_when(latest.window_start)} ({latest.rows} rows, "
               f"{escape(latest.status)})" if latest else "") + "</p>")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Gannet monitor "
            f"{escape(monitor.name)}</title><style>body{{font-family:sans-serif;margin:2em}}"
            "td,th{padding:2px 8px;text-align:left}</style></head><body>"
            + head + "".join(parts) + "</body></html>")
