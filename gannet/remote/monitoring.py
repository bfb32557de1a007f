"""``RemoteMonitors`` and ``RemoteAlerts``: ``MonitorService``'s and ``AlertService``'s
calls against a team server.

A reference the server can read itself (``log:...``, ``dataset:NAME@V``) is sent as it is;
a table here (a DataFrame, a Parquet or CSV file) is read here, uploaded as one Parquet blob
(``PUT /api/v1/blobs/{digest}``), and named to the server as ``blob:<digest>``. Runs happen
on the server, next to the inference log; alerts are delivered from there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gannet.core.digests import digest_bytes
from gannet.core.durations import parse_duration
from gannet.core.settings import Settings
from gannet.monitoring.alerts.rules import Rule
from gannet.monitoring.reference import load_reference, parquet_bytes
from gannet.monitoring.types import Monitor, MonitorOptions, MonitorReport, RunSummary
from gannet.remote.transport import Transport

__all__ = ["RemoteAlerts", "RemoteMonitors"]

PREFIX = "/api/v1"
SERVER_SIDE = ("log:", "dataset:", "blob:")


class RemoteMonitors:
    alerts = None  # alerts are delivered by the server, which runs the monitors

    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    def create_monitor(self, deployment: str, reference: Any, *, name: str | None = None,
                       window: str = "hour", label_horizon: str | float = "7d",
                       **options: Any) -> Monitor:
        if isinstance(reference, str) and reference.startswith(SERVER_SIDE):
            sent, source = reference, None
        else:
            sent, source = self._upload(reference, deployment)
        body = {"deployment": deployment, "reference": sent, "reference_source": source,
                "name": name, "window": window,
                "label_horizon": parse_duration(label_horizon),
                **{k: v for k, v in options.items() if v is not None}}
        done = self.transport.call("POST", f"{PREFIX}/monitors", json=body)
        return monitor_of(done["monitor"])

    def _upload(self, reference: Any, deployment: str) -> tuple[str, str]:
        """A local table (or file) as a Parquet blob on the server: (blob:<digest>, where
        it came from)."""
        table, source = load_reference(reference, log=None,  # type: ignore[arg-type]
                                       deployment=deployment)
        body = parquet_bytes(table)
        digest = digest_bytes(body)
        self.transport.send("PUT", f"{PREFIX}/blobs/{quote(digest, safe=':')}", content=body,
                            headers={"content-type": "application/octet-stream"})
        return f"blob:{digest}", source

    def get_monitor(self, name: str) -> Monitor:
        return monitor_of(self.transport.call("GET", _monitor(name))["monitor"])

    def list_monitors(self, deployment: str | None = None) -> list[Monitor]:
        params = {"deployment": deployment} if deployment else None
        found = self.transport.call("GET", f"{PREFIX}/monitors", params=params)
        return [monitor_of(m) for m in found["monitors"]]

    def delete_monitor(self, name: str) -> None:
        self.transport.call("DELETE", _monitor(name))

    def list_monitor_reports(self, name: str, limit: int | None = 24) -> list[MonitorReport]:
        found = self.transport.call("GET", _monitor(name) + "/reports",
                                    params={"limit": limit or 10_000})
        return [MonitorReport(**r) for r in found["reports"]]

    def run_monitor(self, name: str, *, now: int | None = None) -> RunSummary:
        done = self.transport.call("POST", _monitor(name) + "/runs", json={"now": now})["run"]
        return RunSummary(done["monitor"], done["rows_read"],
                          [MonitorReport(**r) for r in done["reports"]], done["watermark"],
                          done["alerts"])

    def monitor_page(self, name: str, limit: int = 24) -> str:
        """The monitor's reports as the self-contained HTML page the server renders."""
        response = self.transport.send("GET", _monitor(name) + "/page",
                                       params={"limit": limit})
        return response.text


class RemoteAlerts:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    def apply_alert_rules(self, text: str, where: str = "the rules") -> list[Rule]:
        done = self.transport.call("PUT", f"{PREFIX}/alert-rules",
                                   json={"text": text, "where": where})
        return [Rule(**r) for r in done["rules"]]

    def list_alert_rules(self) -> list[dict[str, Any]]:
        return list(self.transport.call("GET", f"{PREFIX}/alert-rules")["rules"])

    def get_alert_history(self, rule: str | None = None, limit: int = 100
                          ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if rule is not None:
            params["rule"] = rule
        return list(self.transport.call("GET", f"{PREFIX}/alert-history", params=params)[
            "events"])

    def silence_alert(self, rule: str, seconds: float, monitor: str | None = None) -> int:
        done = self.transport.call("POST", f"{PREFIX}/alert-rules/{quote(rule, safe='')}"
                                   "/silence", json={"seconds": seconds, "monitor": monitor})
        return int(done["silenced_until"])

    def wait_for_deliveries(self, timeout: float = 30.0) -> bool:
        return True  # the server delivers its alerts itself


def monitor_of(data: dict[str, Any]) -> Monitor:
    return Monitor(**{**data, "options": MonitorOptions.from_dict(data["options"])})


def _monitor(name: str) -> str:
    return f"{PREFIX}/monitors/{quote(name, safe='')}"
