"""``gannet policy ...`` through the CLI runner, and ``gannet controller`` as real processes:
one killed mid-rollout, another resuming where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(world, settings):
    from gannet.cli.app import app

    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
              "--artifacts-url", settings.artifacts_url]
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})

    def invoke(*args: str) -> object:
        return CliRunner().invoke(app, [*stores, *args], env=env)

    return invoke


def test_policy_commands_apply_run_approve_and_show_history(world, cli):
    stages = "- {weight: 20, approval: required}\n- {weight: 100}"
    path = world.policy(stages=stages)
    dry = cli("policy", "dry-run", str(path), "--json")
    assert dry.exit_code == 0, dry.output
    found = json.loads(dry.output)
    assert found["would"] == "wait" and found["stages"][0]["approval"] is True
    assert found["params"]["data"] == "ct-train@1"
    assert cli("policy", "apply", str(path)).exit_code == 0
    listed = json.loads(cli("policy", "list", "--json").output)
    assert [(p["name"], p["phase"]) for p in listed] == [("ct", "idle")]
    world.new_data()
    dry = json.loads(cli("policy", "dry-run", str(path), "--json").output)
    assert dry["would"] == "retrain" and dry["params"]["data"] == "ct-train@2"
    ticked = cli("controller", "--once")
    assert ticked.exit_code == 0, ticked.output
    assert "needs approval" in ticked.output
    status = json.loads(cli("policy", "status", "ct", "--json").output)
    assert status["phase"] == "awaiting_approval" and status["latest"]["action"] == "wait"
    assert cli("policy", "approve", "ct", "--comment", "fine").exit_code == 0
    assert cli("controller", "--once").exit_code == 0
    history = json.loads(cli("policy", "history", "ct", "--json").output)
    assert [d["action"] for d in history] == [
        "promote", "canary", "canary", "approve", "wait", "gate", "retrain", "trigger"]
    assert all({"policy", "action", "reason", "at"} <= set(d) for d in history)
    assert history == sorted(history, key=lambda d: d["at"], reverse=True)
    assert cli("policy", "pause", "ct").exit_code == 0
    assert json.loads(cli("policy", "status", "ct", "--json").output)["paused"] is True
    assert cli("policy", "resume", "ct").exit_code == 0
    assert cli("policy", "delete", "ct").exit_code == 0
    assert json.loads(cli("policy", "list", "--json").output) == []
    kept = json.loads(cli("policy", "history", "--json").output)
    assert [d["id"] for d in kept] == [d["id"] for d in history]  # the record stays


def test_policy_commands_name_what_is_wrong(world, cli):
    missing = cli("policy", "apply", str(world.folder / "nope.yaml"))
    assert missing.exit_code == 4 and "no policy file" in missing.output
    text = world.policy().read_text().replace("deployment: churn", "deployment: gone")
    (world.folder / "bad.yaml").write_text(text)
    bad = cli("policy", "apply", str(world.folder / "bad.yaml"))
    assert bad.exit_code == 4 and "deployment 'gone'" in bad.output
    assert cli("policy", "approve", "nosuch").exit_code == 4
    assert cli("policy", "history", "nosuch").exit_code == 4


def _controller(settings, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    return subprocess.Popen(
        [sys.executable, "-m", "gannet", "--home", str(settings.home), "--metadata-url",
         settings.metadata_url, "--artifacts-url", settings.artifacts_url, "controller",
         "--interval", "0.2", "--lease", "3", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)


def _wait_for(world, phases, proc, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = world.training.get_policy_status("ct")
        if status.phase in phases:
            return status
        if proc.poll() is not None:
            raise AssertionError(f"the controller exited: {proc.stderr.read().decode()}")
        time.sleep(0.1)
    raise AssertionError(f"no phase in {phases} within {timeout} s (at {status.phase})")


@pytest.mark.slow
def test_a_controller_killed_mid_rollout_is_resumed_by_another(world, settings):
    stages = "- {weight: 30, duration: 5s}\n- {weight: 100}"
    world.training.apply_policy(world.policy(stages=stages).read_text(), folder=world.folder)
    world.new_data()
    first = _controller(settings)
    try:
        _wait_for(world, ("canary",), first)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        first.stderr.close()
    second = _controller(settings)
    try:
        status = _wait_for(world, ("promoted", "rolled_back", "failed"), second)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait()
        second.stderr.close()
    assert status.phase == "promoted"
    actions = [d.action for d in reversed(world.decisions())]
    assert [a for a in actions if a != "wait"] == [
        "trigger", "retrain", "gate", "canary", "canary", "promote"]
    assert actions.count("wait") <= 1  # the 5 s stage waited, recorded once
    history = world.services.deployments.get_deployment_history("churn")
    routes = [{r.ref: r.weight for r in s.routes} for s in reversed(history)]
    assert routes.count({"churn@champion": 70.0, "churn/2": 30.0}) == 1
    assert routes[-1] == {"churn@champion": 100.0}
    assert len(world.services.registry.search_model_versions("churn")) == 2  # one retrain
