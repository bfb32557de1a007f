"""The loop through ``TrainingService``, on SQLite and PostgreSQL, without live traffic:
triggers, one retrain for two triggers, gates, zero-length stages, approval, records."""

import pytest

from gannet.core.errors import InvalidArgument, InvalidState, NotFound


def _actions(world, policy="ct"):
    return [d.action for d in reversed(world.decisions(policy))]


def test_a_new_dataset_version_retrains_gates_and_promotes(world):
    world.training.apply_policy(world.policy().read_text(), folder=world.folder)
    assert world.training.tick().decisions == []  # nothing new since the policy was applied
    version = world.new_data()
    report = world.training.tick()
    assert report.leader and not report.errors, report.errors
    assert _actions(world) == ["trigger", "retrain", "gate", "canary", "promote"]
    services = world.services
    champion = services.registry.get_registered_model("churn").aliases["champion"]
    assert champion == 2
    trained = services.registry.get_model_version("churn", 2)
    run = services.pipelines.get_pipeline_run(trained.tags["gannet.pipeline.run"])
    assert run.params["data"] == f"ct-train@{version}"  # ${dataset} substituted
    state = services.deployments.get_deployment_state("churn")
    assert {r.ref: r.weight for r in state.routes} == {"churn@champion": 100.0}
    status = world.training.get_policy_status("ct")
    assert status.phase == "promoted"
    gate = next(d for d in world.decisions() if d.action == "gate")
    assert gate.numbers["challenger_value"] > gate.numbers["champion_value"] + 0.05
    # every decision is in the audit log too
    audit = services.auth.search_audit_log("policy:ct")
    assert {e.action for e in audit} >= {"training.trigger", "training.promote"}
    # lineage: dataset version -> trigger -> pipeline run -> model version -> revision
    lineage = services.lineage
    trigger = world.decisions()[-1]
    assert [e.to_id for e in lineage.users_of("training_trigger", [trigger.id])] == [run.run_id]
    assert [e.to_id for e in lineage.users_of("run", [run.run_id])] == ["churn/2"]
    revisions = {e.to_id for e in lineage.users_of("model_version", ["churn/2"])}
    assert f"churn/{state.revision}" in revisions
    # and `gannet lineage churn/2` names the dataset version it was trained on
    used = services.data.usage("churn/2").datasets
    assert "ct-train@2" in {u["dataset_version"] for u in used}


def test_a_bad_challenger_fails_its_gate_and_the_champion_is_untouched(world):
    world.training.apply_policy(world.policy("bad").read_text(), folder=world.folder)
    before = world.services.deployments.get_deployment_state("churn")
    world.new_data()
    world.training.tick()
    assert _actions(world) == ["trigger", "retrain", "gate"]
    gate = world.decisions()[0]
    assert gate.numbers["passed"] is False and "the champion is untouched" in gate.reason
    assert "accuracy" in gate.reason
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 1
    assert world.services.deployments.get_deployment_state("churn").revision == before.revision
    assert world.training.get_policy_status("ct").phase == "failed"


def test_a_failing_retrain_is_recorded_and_changes_nothing(world):
    world.training.apply_policy(world.policy("failing").read_text(), folder=world.folder)
    world.new_data()
    world.training.tick()
    retrain = world.decisions()[0]
    assert retrain.action == "retrain" and "the training data is unreadable" in retrain.reason
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 1


def test_two_triggers_at_once_start_one_retrain(world):
    rules = """rules: [{name: churn-drift, when: drift.share > 0.3}]"""
    world.services.alerts.apply_alert_rules(rules)
    text = world.policy().read_text().replace("  - dataset: ct-train",
                                              "  - dataset: ct-train\n  - schedule: '* * * * *'")
    world.training.apply_policy(text, folder=world.folder)
    status = world.training.get_policy_status("ct")
    seen = {k: (v - 120_000 if k.startswith("schedule") else v)
            for k, v in status.data["seen"].items()}  # a minute's window has passed
    world.training.save(status, status.phase, 0, {**status.data, "seen": seen})
    world.new_data()
    world.training.tick()
    actions = _actions(world)
    assert actions.count("trigger") == 1 and actions.count("retrain") == 1
    trigger = world.decisions()[-1]
    assert "new version" in trigger.reason and "schedule" in trigger.reason


def test_approval_required_waits_until_approved(world):
    stages = "- {weight: 50, approval: required}\n- {weight: 100}"
    world.training.apply_policy(world.policy(stages=stages).read_text(), folder=world.folder)
    world.new_data()
    world.training.tick()
    assert world.training.get_policy_status("ct").phase == "awaiting_approval"
    waiting = world.decisions()[0]
    assert waiting.action == "wait" and "gannet policy approve ct" in waiting.reason
    world.training.tick()  # still waiting, nothing recorded twice
    assert world.decisions()[0].id == waiting.id
    state = world.services.deployments.get_deployment_state("churn")
    assert {r.ref: r.weight for r in state.routes} == {"churn@champion": 1.0}
    world.training.approve_policy("ct", "looks good")
    world.training.tick()
    assert _actions(world)[-4:] == ["approve", "canary", "canary", "promote"]
    with pytest.raises(InvalidState, match="not awaiting approval"):
        world.training.approve_policy("ct")


def test_a_paused_policy_is_left_alone(world):
    world.training.apply_policy(world.policy().read_text(), folder=world.folder)
    world.training.pause_policy("ct")
    world.new_data()
    world.training.tick()
    assert world.decisions() == []
    world.training.resume_policy("ct")
    world.training.tick()
    assert _actions(world)[-1] == "promote"


@pytest.mark.parametrize(("change", "error", "named"), [
    (("model: churn", "model: nosuch"), NotFound, "registered model 'nosuch'"),
    (("deployment: churn", "deployment: nosuch"), NotFound, "deployment 'nosuch'"),
    (("ct_pipeline.py", "missing.py"), NotFound, "pipeline"),
    (("dataset: ct-holdout", "dataset: nosuch"), NotFound, "dataset 'nosuch'"),
    (("  - dataset: ct-train", "  - dataset: ct-train\n  - alert: nosuch"), NotFound,
     "alert rule .nosuch."),
    (("min_improvement: 0.05", "min_improvement: lots"), InvalidArgument, "min_improvement"),
    (("metric: accuracy", "metric: accuracy\n  gates: required"), NotFound,
     "promotion gates"),
])
def test_a_policy_naming_what_is_missing_is_refused(world, change, error, named):
    text = world.policy().read_text().replace(*change)
    with pytest.raises(error, match=named):
        world.training.apply_policy(text, folder=world.folder)


def test_two_controllers_one_acts(world):
    training = world.training
    assert training.acquire_lease("first")
    assert not training.acquire_lease("second")
    assert not training.tick("second").leader
    assert training.tick("first").leader
    training.release_lease("first")
    assert training.tick("second").leader
    training.lease_s = 0.05  # "second" stops renewing: its lease runs out
    assert training.acquire_lease("second")
    import time

    time.sleep(0.1)
    assert training.acquire_lease("first")


def test_a_stage_without_traffic_waits_then_rolls_back_at_its_timeout(world):
    stages = "- {weight: 10, min_requests: 1000, timeout: 1s}\n- {weight: 100}"
    world.training.apply_policy(world.policy(stages=stages).read_text(), folder=world.folder)
    world.new_data()
    world.training.tick()
    waiting = world.decisions()[0]
    assert waiting.action == "wait" and "0 of 1000 requests" in waiting.reason
    state = world.services.deployments.get_deployment_state("churn")
    assert {r.ref: r.weight for r in state.routes} == {"churn@champion": 90.0, "churn/2": 10.0}
    import time

    time.sleep(1.1)
    world.training.tick()
    rollback = world.decisions()[0]
    assert rollback.action == "rollback" and "timed out" in rollback.reason
    state = world.services.deployments.get_deployment_state("churn")
    assert {r.ref: r.weight for r in state.routes} == {"churn@champion": 1.0}
    aliases = world.services.registry.get_registered_model("churn").aliases
    assert aliases["champion"] == 1
    assert "challenger" not in aliases  # the rolled-back version is nobody's challenger


def test_the_sdk_applies_and_reads_policies(world):
    from gannet.client.client import GannetClient

    client = GannetClient(world.services.settings)
    client._services = world.services  # the same stores as the world's
    status = client.apply_policy(world.policy())
    assert status.name == "ct" and [p.name for p in client.list_policies()] == ["ct"]
    world.new_data()
    assert client.tick().leader
    assert client.list_decisions("ct")[0].action == "promote"
    assert client.get_policy_status("ct").phase == "promoted"
