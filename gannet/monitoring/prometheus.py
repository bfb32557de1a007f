"""Monitor outputs as Prometheus metrics: the latest report of every monitor.

Each flat metric of a report (``gannet.monitoring.evaluate.flat_metrics``) becomes a gauge
``gannet_monitor_<name>`` with dots as underscores (``drift.share`` ->
``gannet_monitor_drift_share``), labelled ``monitor`` and ``deployment``; per column,
``gannet_monitor_column_drift_score{monitor, deployment, column}`` and
``gannet_monitor_column_drifted{...}``; and ``gannet_monitor_last_run_timestamp_seconds``.
``MonitorCollector`` is a prometheus-client collector (the team server's ``/metrics``
registers it); ``exposition`` is the same as text (``gannet monitor metrics``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.monitoring.service import MonitorService

__all__ = ["KNOWN_METRICS", "MonitorCollector", "exposition", "metric_name"]

# every name a report can carry (flat_metrics'), for dashboards and their tests
KNOWN_METRICS = (
    "rows", "drift.share", "drift.columns", "drift.dataset", "prediction_drift.score",
    "prediction_drift.drifted", "quality.null_share", "quality.out_of_range_share",
    "quality.unseen_share", "quality.missing_columns", "quality.issues",
    "performance.accuracy", "performance.precision", "performance.recall", "performance.f1",
    "performance.roc_auc", "performance.log_loss", "performance.rmse", "performance.mae",
    "labels.count", "labels.coverage", "labels.delay_p50_s", "labels.delay_p90_s",
    "labels.unknown",
)
PER_COLUMN = ("gannet_monitor_column_drift_score", "gannet_monitor_column_drifted")
LAST_RUN = "gannet_monitor_last_run_timestamp_seconds"


def metric_name(name: str) -> str:
    return "gannet_monitor_" + re.sub(r"[^a-zA-Z0-9_]", "_", name)


class MonitorCollector:
    """A prometheus-client collector reading the latest reports at each scrape."""

    def __init__(self, monitoring: MonitorService) -> None:
        self.monitoring = monitoring

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        families: dict[str, Any] = {}

        def family(name: str, extra: tuple[str, ...] = ()) -> Any:
            if name not in families:
                families[name] = GaugeMetricFamily(name, f"Gannet monitor output {name}",
                                                   labels=["monitor", "deployment", *extra])
            return families[name]

        for monitor in self.monitoring.list_monitors():
            labels = [monitor.name, monitor.deployment]
            if monitor.last_run_time is not None:
                family(LAST_RUN).add_metric(labels, monitor.last_run_time / 1000)
            latest = self.monitoring.list_monitor_reports(monitor.name, limit=1)
            if not latest:
                continue
            for name, value in latest[0].metrics.items():
                family(metric_name(name)).add_metric(labels, value)
            for column, found in latest[0].body["drift"]["columns"].items():
                if found.get("score") is None:
                    continue
                family(PER_COLUMN[0], ("column",)).add_metric([*labels, column], found["score"])
                family(PER_COLUMN[1], ("column",)).add_metric([*labels, column],
                                                              float(found["drifted"]))
        yield from families.values()


def exposition(monitoring: MonitorService) -> str:
    """The metrics as Prometheus text."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(monitoring))
    return generate_latest(registry).decode()
