"""Runs, logging and artifacts through a server with auth on, by the remote SDK: an editor
logs, a reader who writes is refused before a byte is sent, another project's run is
missing; nothing refused is stored."""

from pathlib import Path

import pytest
from test_auth import team  # noqa: F401  (the fixture: users, projects, a server)

from gannet.client.client import GannetClient
from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied


def sdk_of(team, settings, token):  # noqa: F811
    return GannetClient(settings.replace(uri=team.url, token=token))


def test_an_editor_logs_a_reader_cannot_and_another_project_sees_nothing(
    team, settings, services, tmp_path: Path  # noqa: F811
):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 100_000)
    alice = sdk_of(team, settings, team.alice)
    for step in range(10):
        alice.log_metric(team.run_a, "loss", 1.0 / (step + 1), step=step)
    alice.log_artifact(team.run_a, weights)
    alice.close()
    assert len(services.tracking.get_metric_history(team.run_a, "loss")) == 10

    rita = sdk_of(team, settings, team.rita)
    assert rita.read_artifact(team.run_a, "weights.bin") == weights.read_bytes()
    other = tmp_path / "other.bin"
    other.write_bytes(b"o" * 1000)
    with pytest.raises(PermissionDenied):
        rita.log_artifact(team.run_a, other)
    rita.log_metric(team.run_a, "loss", 0.0, step=99)
    with pytest.raises(InvalidArgument, match="refused 1 logged entry"):
        rita.flush()
    rita.close()

    bob = sdk_of(team, settings, team.bob)
    with pytest.raises(NotFound, match=f"no run with id '{team.run_a}'"):
        bob.list_artifacts(team.run_a)
    with pytest.raises(NotFound):
        bob.download_artifacts(team.run_a, "", tmp_path / "stolen")
    with pytest.raises(NotFound):
        bob.log_artifact(team.run_a, other)
    bob.close()

    assert [m.step for m in services.tracking.get_metric_history(team.run_a, "loss")] == list(
        range(10))
    assert [f.path for f in services.tracking.list_artifacts(team.run_a)] == ["weights.bin"]
    assert sorted(services.blobs.iter_digests()) == sorted(
        {f.digest for f in services.tracking.list_artifacts(team.run_a)})
    assert not (tmp_path / "stolen").exists() or not any((tmp_path / "stolen").iterdir())


def test_a_new_experiment_goes_to_the_clients_project(team, settings):  # noqa: F811
    alice = GannetClient(settings.replace(uri=team.url, token=team.alice, project="a"))
    experiment_id = alice.create_experiment("from-alice")
    assert alice.services.tracking.create_experiment("named", project="a") != experiment_id
    alice.close()
    rita, bob = sdk_of(team, settings, team.rita), sdk_of(team, settings, team.bob)
    assert rita.get_experiment(experiment_id).name == "from-alice"
    with pytest.raises(NotFound):
        bob.get_experiment(experiment_id)
    with pytest.raises((NotFound, PermissionDenied)):
        bob.services.tracking.create_experiment("into-a", project="a")
    rita.close()
    bob.close()
