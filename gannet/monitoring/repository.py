"""Monitoring's SQL in the metadata store: rows in, plain types out. Every function takes
an open connection; the service chooses the transactions."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.monitoring.tables import (
    alert_events,
    alert_rules,
    alert_states,
    monitor_reports,
    monitors,
)
from gannet.monitoring.types import Monitor, MonitorOptions, MonitorReport

__all__ = [
    "add_event", "delete_monitor", "get_monitor", "insert_monitor", "list_events",
    "list_monitors", "list_reports", "list_rules", "put_report", "put_rules", "put_state",
    "referenced_digests", "reports_since", "set_delivery", "set_watermark", "states",
]


def _monitor(row: Any) -> Monitor:
    return Monitor(row.name, row.deployment, row.reference_digest, row.reference_source,
                   MonitorOptions.from_dict(json.loads(row.options)), row.watermark,
                   row.created_time, row.last_run_time)


def insert_monitor(conn: Connection, monitor: Monitor) -> None:
    conn.execute(monitors.insert().values(
        name=monitor.name, deployment=monitor.deployment,
        reference_digest=monitor.reference_digest, reference_source=monitor.reference_source,
        options=json.dumps(monitor.options.to_dict()), watermark=monitor.watermark,
        created_time=monitor.created_time, last_run_time=None))


def get_monitor(conn: Connection, name: str) -> Monitor | None:
    row = conn.execute(sa.select(monitors).where(monitors.c.name == name)).first()
    return None if row is None else _monitor(row)


def list_monitors(conn: Connection, deployment: str | None = None) -> list[Monitor]:
    query = sa.select(monitors).order_by(monitors.c.name)
    if deployment is not None:
        query = query.where(monitors.c.deployment == deployment)
    return [_monitor(r) for r in conn.execute(query)]


def delete_monitor(conn: Connection, name: str) -> bool:
    conn.execute(monitor_reports.delete().where(monitor_reports.c.monitor == name))
    conn.execute(alert_states.delete().where(alert_states.c.monitor == name))
    return bool(conn.execute(monitors.delete().where(monitors.c.name == name)).rowcount)


def set_watermark(conn: Connection, name: str, watermark: int | None, now: int) -> None:
    conn.execute(monitors.update().where(monitors.c.name == name).values(
        watermark=watermark, last_run_time=now))


def referenced_digests(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(sa.select(monitors.c.reference_digest))}


def _report(row: Any) -> MonitorReport:
    return MonitorReport(row.monitor, row.window_start, row.window_end, row.rows,
                         bool(row.partial), row.status, row.drift_share,
                         json.loads(row.report), row.updated_time)


def put_report(conn: Connection, report: MonitorReport) -> None:
    """Insert the report, or replace the one of the same monitor and window."""
    values = {"window_end": report.window_end, "rows": report.rows,
              "partial": report.partial, "status": report.status,
              "drift_share": report.drift_share, "report": json.dumps(report.body),
              "updated_time": report.updated_time}
    key = ((monitor_reports.c.monitor == report.monitor)
           & (monitor_reports.c.window_start == report.window_start))
    if conn.execute(monitor_reports.update().where(key).values(**values)).rowcount == 0:
        conn.execute(monitor_reports.insert().values(
            monitor=report.monitor, window_start=report.window_start, **values))


def list_reports(conn: Connection, monitor: str, limit: int | None = None
                 ) -> list[MonitorReport]:
    """The monitor's reports, newest window first."""
    query = (sa.select(monitor_reports).where(monitor_reports.c.monitor == monitor)
             .order_by(monitor_reports.c.window_start.desc()))
    if limit is not None:
        query = query.limit(limit)
    return [_report(r) for r in conn.execute(query)]


def reports_since(conn: Connection, monitor: str, end_after: int) -> list[MonitorReport]:
    """Reports whose window ends after ``end_after``, oldest first."""
    query = (sa.select(monitor_reports)
             .where(monitor_reports.c.monitor == monitor,
                    monitor_reports.c.window_end > end_after)
             .order_by(monitor_reports.c.window_start))
    return [_report(r) for r in conn.execute(query)]


# -- alerts --------------------------------------------------------------------------------


def put_rules(conn: Connection, rules: dict[str, dict[str, Any]], now: int) -> None:
    """Replace every stored rule with ``rules`` (name -> JSON-able rule)."""
    conn.execute(alert_rules.delete())
    stale = sa.select(alert_states.c.rule).where(alert_states.c.rule.not_in(list(rules)))
    conn.execute(alert_states.delete().where(alert_states.c.rule.in_(stale)))
    for name, rule in rules.items():
        conn.execute(alert_rules.insert().values(name=name, rule=json.dumps(rule),
                                                 updated_time=now))


def list_rules(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sa.select(alert_rules).order_by(alert_rules.c.name))
    return {r.name: json.loads(r.rule) for r in rows}


def states(conn: Connection, rule: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(alert_states).order_by(alert_states.c.rule, alert_states.c.monitor)
    if rule is not None:
        query = query.where(alert_states.c.rule == rule)
    return [dict(r._mapping) for r in conn.execute(query)]


def put_state(conn: Connection, state: dict[str, Any]) -> None:
    key = ((alert_states.c.rule == state["rule"]) & (alert_states.c.monitor == state["monitor"]))
    values = {k: v for k, v in state.items() if k not in ("rule", "monitor")}
    if conn.execute(alert_states.update().where(key).values(**values)).rowcount == 0:
        conn.execute(alert_states.insert().values(**state))


def add_event(conn: Connection, event: dict[str, Any]) -> None:
    conn.execute(alert_events.insert().values(
        **{**event, "delivery": json.dumps(event.get("delivery", {}))}))


def set_delivery(conn: Connection, event_id: str, notifier: str, result: str) -> None:
    """Record how one notifier's delivery of an event ended."""
    row = conn.execute(sa.select(alert_events.c.delivery)
                       .where(alert_events.c.id == event_id)).first()
    if row is not None:
        delivery = {**json.loads(row.delivery), notifier: result}
        conn.execute(alert_events.update().where(alert_events.c.id == event_id)
                     .values(delivery=json.dumps(delivery)))


def list_events(conn: Connection, rule: str | None = None, limit: int = 100
                ) -> list[dict[str, Any]]:
    query = sa.select(alert_events).order_by(alert_events.c.time.desc(),
                                             alert_events.c.id.desc()).limit(limit)
    if rule is not None:
        query = query.where(alert_events.c.rule == rule)
    return [{**dict(r._mapping), "delivery": json.loads(r.delivery)}
            for r in conn.execute(query)]
