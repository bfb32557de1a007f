"""Triggers asked of the capabilities that know: an alert rule going to firing, a
monitor's performance floor; and two controllers on one store, of which one acts."""

from __future__ import annotations

import threading

import numpy as np

from gannet.core.clock import now_ms


def _with_triggers(world, triggers: str) -> str:
    return world.policy().read_text().replace("  - dataset: ct-train", triggers)


def test_an_alert_firing_retrains_on_the_latest_dataset_version(world):
    from gannet.monitoring.types import MonitorReport

    alerts = world.services.alerts
    alerts.apply_alert_rules("rules: [{name: churn-drift, when: drift.share > 0.3}]")
    text = _with_triggers(world, "  - dataset: ct-train\n  - alert: churn-drift")
    world.training.apply_policy(text, folder=world.folder)
    assert world.training.tick().decisions == []
    now = now_ms()
    report = MonitorReport("churn", now - 1000, now, 100, False, "drift", 0.9,
                           {"metrics": {"drift.share": 0.9}}, now)
    assert [e["state"] for e in alerts.evaluate_reports("churn", [report])] == ["firing"]
    world.training.tick()
    trigger = world.decisions()[-1]
    assert trigger.action == "trigger" and trigger.reason == "alert rule churn-drift fired"
    retrain = next(d for d in world.decisions() if d.action == "retrain")
    assert retrain.numbers["params"]["data"] == "ct-train@1"  # the latest version
    world.training.tick()  # the same firing does not retrain twice
    assert [d.action for d in world.decisions()].count("trigger") == 1


def test_a_performance_floor_retrains(world):
    from gannet.serving.log import LoggedPrediction

    services = world.services
    live = world.holdout.iloc[:60]
    services.monitoring.create_monitor("churn", live.drop(columns=["y"]), window="rows:60",
                                       min_rows=10)
    floor = "{monitor: churn, metric: performance.accuracy, min: 0.9}"
    text = _with_triggers(world, f"  - dataset: ct-train\n  - performance: {floor}")
    world.training.apply_policy(text, folder=world.folder)
    writer = services.inference_log.writer(flush_interval=3600)
    now = now_ms()
    for i, (_, row) in enumerate(live.iterrows()):
        writer.log(LoggedPrediction(
            deployment="churn", model="churn", version=1, request_id=f"r{i}",
            timestamp_ms=now - 60_000 + i, latency_ms=1.0,
            inputs={c: [float(row[c])] for c in ("x0", "x1", "x2")},
            outputs=np.array([0])))
    assert writer.flush(timeout=60)
    writer.close()
    services.inference_log.feedback_many("churn", [
        {"request_id": f"r{i}", "label": int(y)} for i, y in enumerate(live["y"])])
    services.monitoring.run_monitor("churn")
    world.training.tick()
    trigger = world.decisions()[-1]
    assert trigger.action == "trigger"
    assert "performance.accuracy of monitor churn is" in trigger.reason
    assert trigger.numbers["value"] < 0.9


def test_two_controllers_on_one_store_tick_at_once_and_one_acts(world, settings):
    from gannet import bootstrap

    world.training.apply_policy(world.policy().read_text(), folder=world.folder)
    world.new_data()
    others = [bootstrap.build(world.services.settings) for _ in range(2)]
    reports = []
    start = threading.Barrier(2)

    def tick(services):
        start.wait()
        reports.append(services.training.tick())

    try:
        threads = [threading.Thread(target=tick, args=(s,)) for s in others]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for s in others:
            s.close()
    assert sorted(r.leader for r in reports) == [False, True]
    actions = [d.action for d in world.decisions()]
    assert actions.count("trigger") == 1 and actions.count("retrain") == 1
    assert actions[0] == "promote"
