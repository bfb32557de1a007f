"""A Grafana dashboard (JSON) for one deployment: its serving metrics and its monitors'.

``dashboard(deployment, model)`` gives the dashboard as a dict (import it in Grafana, or
provision it); every query names metrics the inference server (``gannet_requests_total``,
``gannet_request_latency_seconds``, ...) or ``gannet.monitoring.prometheus`` export, with
a ``datasource`` variable for the Prometheus to read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dashboard"]

_M = '{{model="{model}"}}'
_SERVING = [
    ("Requests per second", f"sum by (version, code) (rate(gannet_requests_total{_M}[5m]))"),
    ("Errors per second",
     f"sum by (version, code) (rate(gannet_request_errors_total{_M}[5m]))"),
    ("Latency p95 (s)", "histogram_quantile(0.95, sum by (le, version) "
     f"(rate(gannet_request_latency_seconds_bucket{_M}[5m])))"),
    ("Rows per batch (mean)", f"sum(rate(gannet_batch_rows_sum{_M}[5m])) / "
     f"sum(rate(gannet_batch_rows_count{_M}[5m]))"),
]
_MONITORS = [
    ("Share of drifted features", "gannet_monitor_drift_share"),
    ("Drift score by feature", "gannet_monitor_column_drift_score"),
    ("Prediction drift score", "gannet_monitor_prediction_drift_score"),
    ("Rows per window", "gannet_monitor_rows"),
    ("Accuracy", "gannet_monitor_performance_accuracy"),
    ("ROC AUC", "gannet_monitor_performance_roc_auc"),
    ("F1", "gannet_monitor_performance_f1"),
    ("RMSE", "gannet_monitor_performance_rmse"),
    ("Label coverage", "gannet_monitor_labels_coverage"),
    ("Label delay p50 (s)", "gannet_monitor_labels_delay_p50_s"),
    ("Labels for unknown requests", "gannet_monitor_labels_unknown"),
    ("Null share (worst feature)", "gannet_monitor_quality_null_share"),
    ("Unseen categories share", "gannet_monitor_quality_unseen_share"),
]


def _panel(index: int, title: str, expr: str) -> dict[str, Any]:
    return {
        "id": index + 1, "type": "timeseries", "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "targets": [{"refId": "A", "expr": expr, "datasource": {
            "type": "prometheus", "uid": "${datasource}"}}],
    }


def dashboard(deployment: str, model: str | None = None) -> dict[str, Any]:
    """The dashboard of ``deployment`` (serving panels filter on its ``model``)."""
    queries = [(title, expr.format(model=model or deployment)) for title, expr in _SERVING]
    queries += [(title, f'{metric}{{deployment="{deployment}"}}') for title, metric in _MONITORS]
    return {
        "title": f"Gannet: {deployment}", "uid": f"gannet-{deployment}"[:40],
        "tags": ["gannet"], "timezone": "utc", "schemaVersion": 39,
        "time": {"from": "now-24h", "to": "now"}, "refresh": "1m",
        "templating": {"list": [{"name": "datasource", "type": "datasource",
                                 "query": "prometheus", "label": "Prometheus"}]},
        "panels": [_panel(i, title, expr) for i, (title, expr) in enumerate(queries)],
    }
