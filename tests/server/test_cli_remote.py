"""The ``gannet`` command against a team server: ``GANNET_URI=... gannet runs list`` and
the rest of the tracking commands work as they do on local stores."""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.client.client import GannetClient


@pytest.fixture
def gannet(open_server, tmp_path, monkeypatch):
    """``gannet <args>`` with GANNET_URI naming the server, from a folder whose own home
    is empty (so every answer must come from the server)."""
    monkeypatch.chdir(tmp_path)
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"GANNET_URI": open_server, "GANNET_HOME": str(tmp_path / "elsewhere"),
                "COLUMNS": "200", "NO_COLOR": "1"})

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args), env=env)

    return invoke


def test_tracking_commands_through_the_server(gannet, open_server, settings, tmp_path: Path):
    client = GannetClient(settings.replace(uri=open_server))
    experiment_id = client.create_experiment("churn")
    run = client.create_run(experiment_id, run_name="rf-1")
    client.log_param(run.run_id, "depth", 3)
    for step in range(3):
        client.log_metric(run.run_id, "acc", 0.8 + step / 100, step=step)
    client.log_text(run.run_id, "hello", "notes/hello.txt")
    client.set_terminated(run.run_id)
    client.close()

    listed = gannet("runs", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [r["info"]["run_id"] for r in json.loads(listed.stdout)] == [run.run_id]
    found = gannet("runs", "search", "metrics.acc > 0.81", "-e", "churn", "--json")
    assert [r["info"]["run_name"] for r in json.loads(found.stdout)["runs"]] == ["rf-1"]
    shown = gannet("runs", "show", run.run_id)
    assert shown.exit_code == 0 and "depth" in shown.stdout and "rf-1" in shown.stdout
    assert "churn" in gannet("experiments", "list").stdout
    assert gannet("experiments", "create", "second").exit_code == 0
    files = gannet("artifacts", "list", run.run_id, "notes", "--json")
    assert [f["path"] for f in json.loads(files.stdout)] == ["notes/hello.txt"]
    out = tmp_path / "out"
    assert gannet("artifacts", "download", run.run_id, "-o", str(out)).exit_code == 0
    assert (out / "notes" / "hello.txt").read_text() == "hello"
    assert gannet("runs", "delete", run.run_id).exit_code == 0
    assert json.loads(gannet("runs", "list", "--json").stdout) == []
    assert gannet("runs", "restore", run.run_id).exit_code == 0
    missing = gannet("runs", "show", "f" * 32)
    assert missing.exit_code == 4 and "no run with id" in missing.stderr
    assert not (tmp_path / "elsewhere" / "gannet.db").exists()
