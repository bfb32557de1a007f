"""End to end over real servers on 127.0.0.1: a scikit-learn model served by the inference
server, traffic and then labels through ``POST /feedback``, a monitor run, an alert to a
webhook, monitor metrics next to the server's, and a Grafana dashboard whose every query
names a metric that exists."""

import json
import re

import httpx
import pytest
from server_fixtures import LiveServer, register_breast_cancer
from typer.testing import CliRunner
from webhook_receiver import Hook

from gannet.cli.app import app
from gannet.monitoring.prometheus import KNOWN_METRICS, exposition, metric_name
from gannet.serving.log import InferenceLogWriter


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("monitoring"))
    yield found
    found.services.close()


def _names(text):
    """Metric names a Prometheus exposition declares or has samples of."""
    found = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            found.add(name)
            if kind == "histogram":
                found |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            if kind == "counter":
                found |= {name, f"{name}_total"}
        elif line and not line.startswith("#"):
            found.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return found


@pytest.mark.slow
def test_served_traffic_and_feedback_are_monitored_alerted_and_dashboarded(registered, settings,
                                                                          tmp_path):
    """The model is served from its registry (SQLite); monitors and alerts live in the
    test's store, SQLite and PostgreSQL, over the log the server writes."""
    from gannet.bootstrap import build

    log_root = tmp_path / "inference-log"
    services = build(settings.replace(inference_log_url=str(log_root)))
    X = registered.X  # held-out rows of the served model
    reference, live = X.iloc[:70], X.iloc[70:].copy()
    live["mean radius"] *= 1.6  # the world changed: radii are measured in other units
    hook = Hook()
    writer = InferenceLogWriter(log_root, flush_interval=3600)
    try:
        services.alerts.apply_alert_rules(f"""
notifiers: {{team: {{type: webhook, url: "{hook.url}"}}}}
rules: [{{name: radius, when: drift.columns >= 1, severity: critical, notify: [team]}}]
""")
        with LiveServer(registered.services, "churn@champion", log=writer) as server, \
                httpx.Client(base_url=server.url, timeout=30) as client:
            ids = []
            for start in range(0, len(live), 5):
                rows = live.iloc[start:start + 5]
                answer = client.post("/predict?probabilities=true",
                                     json=rows.to_dict("records"))
                assert answer.status_code == 200, answer.text
                ids.append((answer.json()["request_id"], rows.index))
            model = registered.models[1]
            truth = (model.predict(live) + 1) % 2  # the labels say the model is now wrong
            for request_id, index in ids[: len(ids) // 2]:
                for row, i in enumerate(index):
                    sent = client.post("/feedback", json={"request_id": request_id, "row": row,
                                                          "label": int(truth[i - 70])})
                    assert sent.status_code == 200, sent.text
            client.post("/feedback", json={"request_id": "never-answered", "label": 1})
            assert writer.flush(timeout=60)
            served_metrics = client.get("/metrics").text

        services.monitoring.create_monitor("churn", reference, window="day", min_rows=20,
                                           correction="bh")  # 30 features at once
        summary = services.monitoring.run_monitor("churn")
        (report,) = summary.reports
        assert report.rows == len(live)
        assert report.body["drift"]["drifted_columns"] == ["mean radius"]
        performance = report.body["performance"]
        assert performance["labelled"] == sum(len(index) for _, index in ids[: len(ids) // 2])
        assert performance["overall"]["accuracy"] == 0.0  # every label disagrees
        assert "roc_auc" in performance["overall"] and "log_loss" in performance["overall"]
        assert report.metrics["labels.unknown"] == 1
        assert [a["state"] for a in summary.alerts] == ["firing"]
        assert services.alerts.wait_for_deliveries(20)
        assert hook.received[0]["gannet"]["rule"] == "radius"

        monitor_metrics = exposition(services.monitoring)
        exported = _names(served_metrics) | _names(monitor_metrics)
        documented = {metric_name(m) for m in KNOWN_METRICS}
        board_file = tmp_path / "board.json"
        made = CliRunner().invoke(app, [
            "--home", str(settings.home), "--metadata-url", settings.metadata_url,
            "--artifacts-url", settings.artifacts_url,
            "monitor", "grafana", "churn", "--output", str(board_file)])
        assert made.exit_code == 0, made.output
        board = json.loads(board_file.read_text())
        assert board["title"] == "Gannet: churn"
        queries = [t["expr"] for p in board["panels"] for t in p["targets"]]
        assert len(queries) >= 15
        for expr in queries:
            names = set(re.findall(r"\b(gannet_[a-z0-9_]+)", expr))
            assert names, expr
            for name in names:
                assert name in exported or name in documented, (name, expr)
        live_in_board = {n for e in queries for n in re.findall(r"\b(gannet_[a-z0-9_]+)", e)}
        assert len(live_in_board & exported) >= 12  # most panels have data already
    finally:
        writer.close()
        hook.close()
        services.close()
