"""Who acts in embedded mode is the operating system's user: GANNET_USER labels runs but
cannot grant roles, approve in someone else's name, or hide from the audit log."""

import json
import os
import pwd
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gannet.auth.identity import os_user
from gannet.cli.app import app

runner = CliRunner()
POLICY = "aliases:\n  champion:\n    - approval:\n        role: ml-lead\n"


@pytest.fixture
def as_user(settings, tmp_path, monkeypatch):
    """``gannet ...`` against the test's stores with GANNET_USER set to a name."""
    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url]

    def invoke(user: str | None, *args: str):
        env = {"NO_COLOR": "1", "COLUMNS": "200", "GANNET_USER": user}
        return runner.invoke(app, [*stores, *args], env=env)

    return invoke


@pytest.fixture
def registered(settings, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet import GannetClient

    client = GannetClient(settings)
    X, y = load_iris(return_X_y=True)
    run = client.create_run("0")
    client.log_model(run.run_id, LogisticRegression(max_iter=500).fit(X, y), input_example=X[:2])
    client.set_terminated(run.run_id)
    client.register_model(run.run_id, "iris")
    client.register_model(run.run_id, "iris")
    (tmp_path / "policy.yaml").write_text(POLICY)
    client.set_model_policy("iris", POLICY)
    client.close()
    return "iris"


def test_gannet_user_cannot_approve_in_someone_elses_name(as_user, registered):
    me = os_user()
    assert as_user("mallory", "roles", "grant", "mallory", "ml-lead").exit_code == 0
    assert as_user("mallory", "models", "approve", "iris", "2").exit_code == 0
    refused = as_user("mallory", "models", "promote", "iris", "2", "champion")
    assert refused.exit_code == 1 and "FAIL" in refused.stdout  # mallory's role is not mine

    audit = json.loads(as_user(None, "audit", "--json").stdout)
    by_action = {entry["action"]: entry for entry in audit}
    for action in ("role.grant", "version.approve"):
        assert by_action[action]["user_id"] == me
        assert by_action[action]["detail"]["as"] == "mallory"

    assert as_user(None, "roles", "grant", me, "ml-lead").exit_code == 0
    assert as_user(None, "models", "approve", "iris", "2").exit_code == 0
    assert as_user(None, "models", "promote", "iris", "2", "champion").exit_code == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_only_an_admin_grants_roles_and_the_homes_creator_is_one(settings, as_user):
    """The home's creator (the owner of its SQLite file) becomes its admin the first time
    roles change; anyone else is refused. Here the file is given to ``nobody``, as if
    nobody had made the home."""
    if not settings.metadata_url.startswith("sqlite"):
        pytest.skip("the creator is the SQLite file's owner")
    from gannet.bootstrap import build

    build(settings).close()
    database = Path(settings.metadata_url.removeprefix("sqlite:///"))
    nobody = pwd.getpwnam("nobody")
    os.chown(database, nobody.pw_uid, nobody.pw_gid)

    refused = as_user(None, "roles", "grant", os_user(), "ml-lead")
    assert refused.exit_code == 6  # permission
    assert f"{os_user()} may not grant the role 'ml-lead'" in refused.stderr
    assert "held by nobody" in refused.stderr
    assert "nobody: admin" in as_user(None, "roles", "list").stdout
