"""Alerts: rules from YAML (no eval), states de-duplicated, flapping paged once per
``repeat``, silences; webhooks to a real HTTP server (Slack's shape, retries, a timeout
that never holds a run up), email to a real SMTP server, all on SQLite and PostgreSQL."""

import json
import socket
import time

import pandas as pd
import pytest
from logged_churn import HOUR, churn_rows, write_log
from webhook_receiver import Hook

import gannet as gannet_module
from gannet.core.errors import InvalidArgument, NotFound
from gannet.monitoring.alerts.rules import parse_condition, parse_rules
from gannet.monitoring.types import MonitorReport
from gannet.serving.log.schema import default_root


@pytest.fixture
def hook():
    found = Hook()
    yield found
    found.close()


def _report(start, **metrics):
    return MonitorReport("churn", start, start + HOUR, 100, False, "ok", None,
                         {"metrics": metrics}, 0)


def test_conditions_are_parsed_not_evaluated():
    assert parse_condition("drift.share > 0.3") .metric == "drift.share"
    found = parse_condition("performance.roc_auc < 0.8 for 2 windows")
    assert (found.op, found.value, found.windows) == ("<", 0.8, 2)
    assert found.holds({"performance.roc_auc": 0.7}) and found.holds({}) is None
    for bad in ("__import__('os').system('x') > 1", "drift.share > 0.3; rm", "drift.share >",
                "drift.share > 0.3 for 0 windows"):
        with pytest.raises(InvalidArgument):
            parse_condition(bad)
    with pytest.raises(InvalidArgument, match="notifies pager, which"):
        parse_rules("rules: [{name: a, when: drift.share > 1, notify: [pager]}]")
    with pytest.raises(InvalidArgument, match="needs url"):
        parse_rules("notifiers: {x: {type: webhook}}\nrules: []")


def test_states_are_deduplicated_and_flapping_pages_once_per_repeat(services, hook):
    alerts = services.alerts
    alerts.apply_alert_rules(f"""
notifiers: {{hook: {{type: webhook, url: "{hook.url}"}}}}
rules:
  - {{name: auc, when: performance.roc_auc < 0.8 for 2 windows, severity: critical,
      notify: [hook], repeat: 1h}}
""")
    t = 1_800_000_000_000
    assert alerts.evaluate_reports("churn", [_report(t, **{"performance.roc_auc": 0.7})],
                                   now=t) == []  # one window: pending
    assert alerts.evaluate_reports("churn", [_report(t, **{"performance.roc_auc": 0.6})],
                                   now=t + 1) == []  # the same (open) window counts once
    fired = alerts.evaluate_reports("churn", [_report(t + HOUR, **{"performance.roc_auc": 0.7})],
                                    now=t + 2)
    assert [e["state"] for e in fired] == ["firing"]
    assert alerts.evaluate_reports("churn", [_report(t + 2 * HOUR, **{
        "performance.roc_auc": 0.6})], now=t + 3) == []  # still firing: no second event
    resolved = alerts.evaluate_reports("churn", [_report(t + 3 * HOUR, **{
        "performance.roc_auc": 0.9})], now=t + 4)
    assert [e["state"] for e in resolved] == ["resolved"]
    flapped = alerts.evaluate_reports("churn", [
        _report(t + 4 * HOUR, **{"performance.roc_auc": 0.5}),
        _report(t + 5 * HOUR, **{"performance.roc_auc": 0.5})], now=t + 5)
    assert flapped[0]["delivery"]["hook"].startswith("suppressed")  # paged < 1 h ago
    assert alerts.wait_for_deliveries(10)
    assert [b["gannet"]["state"] for b in hook.received] == ["firing", "resolved"]
    assert hook.received[0]["text"].startswith(":rotating_light: [critical] auc on monitor churn")
    assert hook.received[0]["blocks"][0]["type"] == "section"
    history = alerts.get_alert_history("auc")
    assert [e["state"] for e in history] == ["firing", "resolved", "firing"]
    assert history[-1]["delivery"] == {"hook": "sent"}
    (rule,) = alerts.list_alert_rules()
    assert rule["states"][0]["state"] == "firing"


def test_silenced_rules_keep_state_without_paging(services, hook):
    alerts = services.alerts
    alerts.apply_alert_rules(f"""
notifiers: {{hook: {{type: webhook, url: "{hook.url}"}}}}
rules: [{{name: drift, when: drift.share > 0.3, notify: [hook]}}]
""")
    with pytest.raises(NotFound):
        alerts.silence_alert("nope", 60)
    t = 1_800_000_000_000
    alerts.silence_alert("drift", 7200, now=t)
    (event,) = alerts.evaluate_reports("churn", [_report(t, **{"drift.share": 0.5})], now=t)
    assert event["state"] == "firing" and event["delivery"] == {"hook": "silenced"}
    assert alerts.wait_for_deliveries(10) and hook.received == []


def test_a_slow_webhook_never_holds_a_monitor_run_up(services, gannet, tmp_path):
    slow = Hook(delay=2.0)
    try:
        root = default_root(services.settings)
        first = (int(time.time() * 1000) // HOUR - 3) * HOUR
        write_log(root, "churn", first, 60, shift=10.0, seed=7)
        services.alerts.apply_alert_rules(f"""
notifiers: {{hook: {{type: webhook, url: "{slow.url}", timeout: 0.2, retries: 1}}}}
rules: [{{name: drift, when: drift.share > 0.3, notify: [hook, log]}}]
""")
        inputs, _predictions, _, _ = churn_rows(500, seed=8)
        services.monitoring.create_monitor("churn", pd.DataFrame(inputs), window="hour",
                                           min_rows=10)
        gannet_module.monitor.drift(pd.DataFrame(inputs), pd.DataFrame(inputs))  # imports
        started = time.monotonic()
        summary = services.monitoring.run_monitor("churn")
        assert time.monotonic() - started < 1.5
        assert [a["state"] for a in summary.alerts] == ["firing"]
        assert services.alerts.wait_for_deliveries(30)
        (event,) = services.alerts.get_alert_history()
        assert event["delivery"]["hook"].startswith("failed after 2 attempts: ReadTimeout")
        assert event["delivery"]["log"] == "sent"
    finally:
        slow.close()


def test_closing_the_services_waits_for_the_pages_under_way(settings):
    """A command that fires an alert and ends (``gannet scheduler --once``) closes its
    services: closing waits for the page and records its delivery, never drops it."""
    from gannet.bootstrap import build

    slow = Hook(delay=1.0)
    services = build(settings)
    try:
        first = (int(time.time() * 1000) // HOUR - 3) * HOUR
        write_log(default_root(services.settings), "churn", first, 60, shift=10.0, seed=7)
        services.alerts.apply_alert_rules(f"""
notifiers: {{hook: {{type: webhook, url: "{slow.url}", timeout: 5}}}}
rules: [{{name: drift, when: drift.share > 0.3, notify: [hook]}}]
""")
        inputs, _predictions, _, _ = churn_rows(500, seed=8)
        services.monitoring.create_monitor("churn", pd.DataFrame(inputs), window="hour",
                                           min_rows=10)
        assert [a["state"] for a in services.monitoring.run_monitor("churn").alerts] == [
            "firing"]
        services.close()  # the page is still on its way (the receiver takes 1 s)
        services = build(settings)
        (event,) = services.alerts.get_alert_history()
        assert event["delivery"] == {"hook": "sent"} and len(slow.received) == 1
    finally:
        services.close()
        slow.close()


def test_email_goes_over_smtp(services):
    controller_module = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Message

    mails = []

    class Keep(Message):
        def handle_message(self, message):
            mails.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = controller_module.Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        services.alerts.apply_alert_rules(f"""
notifiers: {{team: {{type: email, to: [ml@example.com], host: 127.0.0.1, port: {port}}}}}
rules: [{{name: nulls, when: quality.null_share >= 0.2, severity: info, notify: [team]}}]
""")
        services.alerts.evaluate_reports("churn", [_report(0, **{"quality.null_share": 0.25})])
        assert services.alerts.wait_for_deliveries(20)
    finally:
        controller.stop()
    (mail,) = mails
    assert mail["To"] == "ml@example.com" and "nulls firing" in mail["Subject"]
    assert "quality.null_share >= 0.2" in mail.get_payload()
    assert services.alerts.get_alert_history()[0]["delivery"] == {"team": "sent"}


def test_alerts_cli_applies_lists_silences_and_shows_history(gannet, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: drift, when: drift.share > 0.3}]\n")
    assert gannet("alerts", "apply", str(rules)).exit_code == 0
    listed = json.loads(gannet("alerts", "list", "--json").output)
    assert [r["name"] for r in listed] == ["drift"] and listed[0]["notify"] == ["log"]
    silenced = gannet("alerts", "silence", "drift", "--for", "2h", "--json")
    assert silenced.exit_code == 0, silenced.output
    assert json.loads(gannet("alerts", "history", "--json").output) == []
    rules.write_text("rules: [{name: drift, when: drift.share >>> 0.3}]\n")
    bad = gannet("alerts", "apply", str(rules))
    assert bad.exit_code == 3 and "cannot read the condition" in bad.output
    assert [r["name"] for r in json.loads(gannet("alerts", "list", "--json").output)] == ["drift"]


def test_late_labels_fire_performance_rules_on_past_windows(services):
    root = default_root(services.settings)
    first = (int(time.time() * 1000) // HOUR - 4) * HOUR
    ids, truth = write_log(root, "churn", first, 80, seed=9)
    services.alerts.apply_alert_rules(
        "rules: [{name: accuracy, when: performance.accuracy < 0.99, notify: [log]}]")
    inputs, _, _, _ = churn_rows(500, seed=10)
    services.monitoring.create_monitor("churn", pd.DataFrame(inputs), min_rows=10)
    assert services.monitoring.run_monitor("churn").alerts == []  # no label yet
    from gannet.serving.log import InferenceLog

    InferenceLog(root).feedback_many("churn", [{"request_id": r, "label": 1 - int(t)}
                                               for r, t in zip(ids, truth, strict=True)])
    late = services.monitoring.run_monitor("churn")
    assert [a["state"] for a in late.alerts] == ["firing"]
    assert services.monitoring.run_monitor("churn").alerts == []  # judged once
