"""Monitors and alerts through the team server: ``gannet monitor`` and ``gannet alerts``
with ``GANNET_URI`` work as on local stores (a local reference file is uploaded, the run
happens on the server next to its inference log), reports come as JSON and as the HTML
page, roles hold (a reader reads, an editor runs, only an administrator replaces the alert
rules), and a reference that names a path on the server is refused."""

import json
import os

import httpx
import numpy as np
import pandas as pd
import pytest
from test_auth import team  # noqa: F401  (the fixture: users, projects, a server)
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.core.clock import now_ms
from gannet.core.errors import PermissionDenied
from gannet.remote import RemoteServices
from gannet.serving.log import InferenceLogWriter, LoggedPrediction
from gannet.serving.log.schema import default_root

HOUR = 3_600_000


def _log(settings, deployment: str, start: int, n: int, shift: float, seed: int) -> None:
    """``n`` logged predictions of ``deployment`` across the hour from ``start``."""
    rng = np.random.default_rng(seed)
    writer = InferenceLogWriter(default_root(settings), flush_interval=3600)
    for i in range(n):
        writer.log(LoggedPrediction(
            deployment=deployment, model=deployment, version=1, request_id=f"r{start}-{i}",
            timestamp_ms=start + i * (HOUR // n), latency_ms=1.0,
            inputs={"tenure": [float(rng.normal(24 + shift, 6))]},
            outputs=np.array([int(rng.uniform() < 0.5)])))
    assert writer.flush(timeout=60)
    writer.close()


@pytest.fixture
def logged(settings, tmp_path):
    """Two closed hours of churn's log (the second shifted) and a reference file here."""
    first = now_ms() // HOUR * HOUR - 5 * HOUR
    _log(settings, "churn", first, 300, 0.0, 1)
    _log(settings, "churn", first + HOUR, 300, 10.0, 2)
    rng = np.random.default_rng(3)
    reference = tmp_path / "reference.parquet"
    pd.DataFrame({"tenure": rng.normal(24, 6, 2000),
                  "prediction": rng.integers(0, 2, 2000)}).to_parquet(reference)
    return first, reference


@pytest.mark.slow
def test_monitor_and_alert_commands_work_through_the_server(open_server, services, logged,
                                                            tmp_path, monkeypatch):
    first, reference = logged
    monkeypatch.chdir(tmp_path)
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"GANNET_URI": open_server, "GANNET_HOME": str(tmp_path / "client"),
                "COLUMNS": "200", "NO_COLOR": "1"})

    def gannet(*args: str):
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout) if "--json" in args else result.stdout

    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: drifting, when: drift.share > 0.3}]\n")
    assert [r["name"] for r in gannet("alerts", "apply", str(rules), "--json")] == ["drifting"]
    created = gannet("monitor", "create", "churn", "--reference", str(reference), "--json")
    assert created["reference_source"] == str(reference)  # read and uploaded here
    assert services.monitoring.get_monitor("churn").deployment == "churn"
    run = gannet("monitor", "run", "churn", "--json")
    assert run["rows_read"] == 600
    drifted = {r["window_start"]: r["body"]["drift"]["drifted_columns"] for r in run["reports"]}
    assert drifted == {first: [], first + HOUR: ["tenure"]}
    assert [a["rule"] for a in run["alerts"]] == ["drifting"]
    shown = gannet("monitor", "show", "churn", "--html", str(tmp_path / "page.html"), "--json")
    assert len(shown["reports"]) == 2 and "<html" in (tmp_path / "page.html").read_text()
    assert [m["name"] for m in gannet("monitor", "list", "--json")] == ["churn"]
    history = gannet("alerts", "history", "--json")
    assert [(e["rule"], e["state"]) for e in history] == [("drifting", "firing")]
    silenced = gannet("alerts", "silence", "drifting", "--for", "1h", "--json")
    assert silenced["silenced_until"] > now_ms()
    assert gannet("alerts", "list", "--json")[0]["states"][0]["state"] == "firing"
    from_log = gannet("monitor", "create", "churn", "--name", "churn-log", "--reference",
                      "log:first:100", "--json")
    assert from_log["reference_source"] == "log:first:100"
    gannet("monitor", "delete", "churn-log", "--json")
    assert [m.name for m in services.monitoring.list_monitors()] == ["churn"]


def test_reports_as_json_and_html_and_bad_references_in_the_envelope(http, services, logged):
    first, reference = logged
    services.monitoring.create_monitor("churn", str(reference))
    ran = http.post("/api/v1/monitors/churn/runs", json={}).json()["run"]
    assert ran["rows_read"] == 600
    reports = http.get("/api/v1/monitors/churn/reports", params={"limit": 1}).json()["reports"]
    assert [r["window_start"] for r in reports] == [first + HOUR]
    page = http.get("/api/v1/monitors/churn/page")
    assert page.headers["content-type"].startswith("text/html") and "plotly" in page.text
    for bad in ("/etc/passwd", str(reference)):  # the server reads no path a caller names
        refused = http.post("/api/v1/monitors", json={"deployment": "churn", "reference": bad,
                                                      "name": "sneaky"})
        assert refused.status_code == 400 and refused.json()["code"] == "BAD_REQUEST"
        assert "reference: Value error, the server reads no file" in refused.json()["error"]
    unknown = http.post("/api/v1/monitors", json={
        "deployment": "churn", "reference": "blob:blake3:" + "0" * 64, "name": "nothing"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "RESOURCE_DOES_NOT_EXIST"
    missing = http.get("/api/v1/monitors/nope")
    assert set(missing.json()) == {"error", "code", "hint", "request_id"}
    assert [m.name for m in services.monitoring.list_monitors()] == ["churn"]
    paths = http.get("/openapi.json").json()["paths"]
    assert "NewMonitor" in json.dumps(paths["/api/v1/monitors"]["post"]["requestBody"])


def test_readers_read_editors_run_and_only_admins_replace_rules(team, settings,  # noqa: F811
                                                                services, logged, tmp_path):
    _, reference = logged
    alice = RemoteServices(settings.replace(uri=team.url, token=team.alice,
                                            home=tmp_path / "alice"))
    rita = RemoteServices(settings.replace(uri=team.url, token=team.rita,
                                           home=tmp_path / "rita"))
    try:
        alice.monitoring.create_monitor("churn", pd.read_parquet(reference))
        with pytest.raises(PermissionDenied, match="editor role"):
            rita.monitoring.run_monitor("churn")
        assert alice.monitoring.run_monitor("churn").rows_read == 600
        assert len(rita.monitoring.list_monitor_reports("churn")) == 2
        with pytest.raises(PermissionDenied, match="editor role"):
            rita.monitoring.create_monitor("churn", "log:first:10", name="rita")
        with pytest.raises(PermissionDenied, match="only an administrator"):
            alice.alerts.apply_alert_rules("rules: [{name: a, when: drift.share > 0.1}]")
        assert rita.alerts.list_alert_rules() == []
    finally:
        alice.close()
        rita.close()
    with httpx.Client(base_url=team.url, headers={"authorization": f"Bearer {team.admin}"}) as h:
        applied = h.put("/api/v1/alert-rules", json={"text": "rules: [{name: a, when: "
                                                             "drift.share > 0.1}]"})
        assert applied.status_code == 200 and applied.json()["rules"][0]["name"] == "a"
    assert [m.name for m in services.monitoring.list_monitors()] == ["churn"]
