"""Continuous training through a team server: policies applied, read and changed over
REST with the roles of the model's project, and the server's own controller advancing
a loop to promotion (``gannet server`` in a subprocess, its controller_interval short)."""

from __future__ import annotations

import time

import pytest

from gannet import GannetClient
from gannet.core.errors import NotFound, NotSupported, PermissionDenied
from gannet.testing.server import ServerProcess, running_server


@pytest.fixture
def team(world):
    """ed edits the project of the model ``churn`` (default), rita reads it, bob is
    elsewhere; a server with auth over the world's stores; a client per person."""
    auth = world.services.auth
    auth.bootstrap_admin()
    for name in ("ed", "rita", "bob"):
        auth.create_user(name)
    auth.create_project("elsewhere")
    for project, user, role in (("default", "ed", "editor"), ("default", "rita", "reader"),
                                ("elsewhere", "bob", "editor")):
        auth.add_member(project, user, role)
    with running_server(world.services, auth=True) as url:
        clients = {name: GannetClient(uri=url, token=auth.create_token("t", user=name).secret,
                                      progress=False, capture_environment=False)
                   for name in ("ed", "rita", "bob")}
        yield clients
        for made in clients.values():
            made.close()


def test_policies_over_rest_follow_the_models_roles(world, team):
    ed, rita, bob = team["ed"], team["rita"], team["bob"]
    path = world.policy()
    with pytest.raises(PermissionDenied, match="editor"):
        rita.apply_policy(path)
    with pytest.raises(NotFound, match="no training policy named 'ct'"):
        bob.apply_policy(path)  # the model is not even visible to bob
    status = ed.apply_policy(path)
    assert (status.name, status.model, str(status.phase)) == ("ct", "churn", "idle")
    assert status.policy is not None and status.policy.deployment == "churn"

    assert [s.name for s in rita.list_policies()] == ["ct"]
    assert rita.get_policy_status("ct").phase == status.phase
    assert bob.list_policies() == []
    with pytest.raises(NotFound):
        bob.get_policy_status("ct")
    with pytest.raises(PermissionDenied):
        rita.pause_policy("ct")
    assert ed.pause_policy("ct").paused and not ed.resume_policy("ct").paused
    dry = rita.dry_run_policy(path.read_text(), folder=str(world.folder))
    assert dry  # what would happen, computed by the server
    with pytest.raises(NotSupported, match="own controller"):
        ed.tick()

    world.services.training.tick()  # the controller (next to the stores) acts
    assert ed.list_decisions("ct") == []  # nothing new yet: no trigger
    world.new_data()
    world.services.training.tick()
    actions = [d.action for d in rita.list_decisions("ct")]
    assert actions[-1] == "trigger" and "retrain" in actions, actions  # newest first
    assert bob.list_decisions() == []
    with pytest.raises(NotFound):
        bob.list_decisions("ct")
    with pytest.raises(PermissionDenied, match="owner"):
        ed.delete_policy("ct")  # deleting needs the owner role
    audit = world.services.auth.search_audit_log("policy:ct")
    assert {e.action for e in audit} >= {"training.apply", "training.pause", "training.resume"}
    assert {e.user_id for e in audit if e.action == "training.apply"} == {"ed"}


@pytest.mark.slow
def test_the_servers_own_controller_promotes_a_challenger(world):
    path = world.policy()
    world.training.apply_policy(path.read_text(), folder=world.folder)
    settings = world.services.settings
    with ServerProcess(settings, "--no-auth", env={"GANNET_CONTROLLER_INTERVAL": "0.5"}):
        world.new_data()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            phase = str(world.training.get_policy_status("ct").phase)
            if phase in ("promoted", "failed", "rolled_back"):
                break
            time.sleep(0.5)
    assert phase == "promoted", [(d.action, d.reason) for d in world.decisions()]
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 2
    # the server let its lease go when it stopped: a controller here acts at once
    assert world.training.tick().leader
