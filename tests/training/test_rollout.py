"""Canary rollouts over a real inference server on 127.0.0.1 serving the deployment from
the same store (SQLite and PostgreSQL): traffic moves stage by stage, guards read the
server's Prometheus counters and the inference log, and the loop ends in promotion or in
an automatic rollback with its reason."""

from __future__ import annotations

import time

import httpx
import pytest
from server_fixtures import LiveServer

from gannet.serving.log import InferenceLogWriter

GUARDS = ("{error_rate: 0.05, latency_p99_ms: 5000, prediction_drift: 0.95, "
          "performance: {metric: accuracy, min: 0.7, min_labels: 5}}")
STAGES = (f"- {{weight: 50, min_requests: 15, timeout: 2m, guards: {GUARDS}}}\n"
          "- {weight: 100, min_requests: 5, timeout: 2m, guards: {error_rate: 0.05}}")

def _drive(world, server, writer, rows, deadline=90.0, labels=True, truth=None):
    """Tick and send traffic (with its labels) until the loop rests; the phases seen."""
    phases = []
    started = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while time.monotonic() - started < deadline:
            world.training.tick()
            status = world.training.get_policy_status("ct")
            if not phases or phases[-1] != (status.phase, status.stage):
                phases.append((status.phase, status.stage))
            if status.phase in ("promoted", "rolled_back", "failed"):
                return phases
            time.sleep(0.15)  # the server polls the deployment every 0.1 s
            sent = []
            for i in range(10):
                record = rows.iloc[[i % len(rows)]]
                answer = client.post("/predict", json=record.drop(columns=["y"]).to_dict(
                    "records"))
                if answer.status_code == 200:
                    label = int(record["y"].iloc[0])
                    sent.append({"request_id": answer.json()["request_id"],
                                 "label": truth(label) if truth else label})
            assert writer.flush(timeout=30)
            if labels and sent:
                world.services.inference_log.feedback_many("churn", sent)
    raise AssertionError(f"the loop did not end within {deadline} s: {phases}")


@pytest.fixture
def served(world, tmp_path):
    writer = InferenceLogWriter(tmp_path / "log", flush_interval=3600)
    with LiveServer(world.services, "churn", log=writer, poll_interval=0.1) as server:
        yield server, writer
    writer.close()


@pytest.mark.slow
def test_a_good_challenger_goes_through_canary_stages_to_promotion(world, served):
    server, writer = served
    extra = f"metrics: [{server.url}]"
    world.training.apply_policy(world.policy(stages=STAGES, extra=extra).read_text(),
                                folder=world.folder)
    world.new_data()
    phases = _drive(world, server, writer, world.holdout)
    assert ("canary", 0) in phases and phases[-1][0] == "promoted", phases
    decisions = list(reversed(world.decisions()))
    actions = [d.action for d in decisions]
    assert actions[:4] == ["trigger", "retrain", "gate", "canary"] and actions[-1] == "promote"
    canaries = [d for d in decisions if d.action == "canary"]
    assert [d.numbers["weight"] for d in canaries] == [50.0, 100.0]
    promote = decisions[-1]
    assert promote.numbers["requests"] >= 5 and promote.numbers["error_rate"] == 0.0
    history = world.services.deployments.get_deployment_history("churn")
    weights = [{r.ref: r.weight for r in s.routes} for s in reversed(history)]
    assert {"churn@champion": 50.0, "churn/2": 50.0} in weights
    assert weights[-1] == {"churn@champion": 100.0}
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 2
    first = world.training.get_policy_status("ct").data["passed"]["0"]
    assert first["labels"] >= 5 and first["live_accuracy"] >= 0.7


@pytest.mark.slow
def test_a_challenger_that_raises_on_live_traffic_is_rolled_back(world, served):
    server, writer = served
    extra = f"metrics: [{server.url}]"
    world.training.apply_policy(world.policy("raising", stages=STAGES, extra=extra)
                                .read_text(), folder=world.folder)
    before = world.services.deployments.get_deployment_state("churn")
    world.new_data()
    live = world.holdout.copy()
    live.loc[::2, "x0"] = 999.0  # rows the new build cannot take
    phases = _drive(world, server, writer, live, labels=False)
    assert phases[-1][0] == "rolled_back", phases
    rollback = world.decisions()[0]
    assert rollback.action == "rollback" and "error rate" in rollback.reason
    assert rollback.numbers["error_rate"] > 0.05
    after = world.services.deployments.get_deployment_state("churn")
    assert [(r.ref, r.weight) for r in after.routes] == \
        [(r.ref, r.weight) for r in before.routes]
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 1


@pytest.mark.slow
def test_a_challenger_below_its_live_performance_floor_is_rolled_back(world, served):
    server, writer = served
    extra = f"metrics: [{server.url}]"
    world.training.apply_policy(world.policy(stages=STAGES, extra=extra).read_text(),
                                folder=world.folder)
    world.new_data()
    phases = _drive(world, server, writer, world.holdout, truth=lambda y: 1 - y)
    assert phases[-1][0] == "rolled_back", phases  # the world changed: labels disagree
    rollback = world.decisions()[0]
    assert "live accuracy" in rollback.reason and rollback.numbers["live_accuracy"] < 0.7
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 1
