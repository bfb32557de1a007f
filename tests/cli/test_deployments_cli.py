"""``gannet deployments`` through the CLI runner, on both metadata backends."""

import json

import pytest
import yaml


@pytest.fixture
def iris(sdk):
    """Model ``iris`` at versions 1 and 2, and ``iris@champion`` -> 1."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    with sdk.start_run(log_environment=False) as run:
        sdk.log_model(LogisticRegression(max_iter=500).fit(X, y), "model")
    for _ in range(2):
        sdk.register_model(run.info.run_id, "iris")
    sdk.set_registered_model_alias("iris", "champion", 1)
    return "iris"


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_create_show_list_traffic_shadows_sticky_key_rollback_history(gannet, iris):
    out = ok(
        gannet(
            "deployments", "create", "iris-api", "--model", "iris",
            "--route", "@champion=3", "--route", "2=1",
            "--sticky", "user_id", "--description", "iris endpoint", "--reason", "launch",
        )
    )  # fmt: skip
    assert "created deployment iris-api of iris: iris@champion 75%, iris/2 25%" in out

    show = ok(gannet("deployments", "show", "iris-api"))
    for expected in ("iris endpoint", "user_id", "launch", "iris@champion", "75%", "25%"):
        assert expected in show
    assert "Version now" in show

    doc = json.loads(ok(gannet("deployments", "show", "iris-api", "--json")))
    assert doc["state"]["routes"] == [
        {"ref": "iris@champion", "weight": 3.0},
        {"ref": "iris/2", "weight": 1.0},
    ]
    assert doc["shares"] == {"iris@champion": 75.0, "iris/2": 25.0}
    assert doc["resolved"] == {"iris@champion": "1", "iris/2": "2"}
    assert doc["state"]["sticky_key"] == "user_id"

    out = ok(gannet("deployments", "set-traffic", "iris-api", "1=90", "iris/2=10", "-r", "canary"))
    assert "iris-api revision 2: iris/1 90%, iris/2 10%" in out
    out = ok(gannet("deployments", "set-shadows", "iris-api", "iris@latest", "--reason", "watch"))
    assert "shadows: iris@latest" in out
    assert "no shadows" in ok(gannet("deployments", "set-shadows", "iris-api", "--clear"))
    assert "sticky key none" in ok(gannet("deployments", "set-sticky-key", "iris-api", "--clear"))
    assert "sticky key X-User" in ok(
        gannet("deployments", "set-sticky-key", "iris-api", "X-User")
    )
    out = ok(
        gannet(
            "deployments", "set-log-fields", "iris-api", "--mask", "email", "--hash", "customer"
        )
    )
    assert "masked email; hashed customer" in out

    listed = ok(gannet("deployments", "list"))
    assert "iris-api" in listed and "iris/1 90%, iris/2 10%" in listed
    states = json.loads(ok(gannet("deployments", "list", "--model", "iris", "--json")))
    assert [(s["name"], s["revision"]) for s in states] == [("iris-api", 7)]

    out = ok(gannet("deployments", "rollback", "iris-api", "--reason", "bad canary"))
    assert "revision 8" in out
    back = json.loads(ok(gannet("deployments", "rollback", "iris-api", "--to", "1", "--json")))
    assert back["revision"] == 9
    assert back["routes"] == [
        {"ref": "iris@champion", "weight": 3.0},
        {"ref": "iris/2", "weight": 1.0},
    ]

    history = ok(gannet("deployments", "history", "iris-api"))
    for expected in ("canary", "watch", "bad canary", "launch"):
        assert expected in history
    revisions = json.loads(ok(gannet("deployments", "history", "iris-api", "--json")))
    assert [s["revision"] for s in revisions] == list(range(9, 0, -1))
    shown = json.loads(ok(gannet("deployments", "show", "iris-api", "--history", "--json")))
    assert shown == revisions  # the same, from show

    audit = ok(gannet("audit", "deployment:iris-api"))
    assert "deployment.rollback" in audit and "deployment.traffic" in audit


def test_bundle_and_delete(gannet, iris, tmp_path):
    ok(gannet("deployments", "create", "iris-api", "-m", "iris"))
    out = ok(
        gannet(
            "deployments", "bundle", "iris-api", "-o", str(tmp_path / "b"),
            "--image", "python:3.12-slim", "--port", "9000", "--replicas", "3",
        )
    )  # fmt: skip
    assert "Dockerfile" in out and "deployment.yaml" in out
    [deployment] = yaml.safe_load_all((tmp_path / "b" / "k8s" / "deployment.yaml").read_text())
    assert deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 9000
    assert "FROM python:3.12-slim" in (tmp_path / "b" / "Dockerfile").read_text()

    refused = gannet("deployments", "delete", "iris-api")  # asks; the runner answers nothing
    assert refused.exit_code == 1
    assert "deleted deployment iris-api" in ok(gannet("deployments", "delete", "iris-api", "--yes"))
    assert json.loads(ok(gannet("deployments", "list", "--json"))) == []


def test_errors_exit_with_their_code_and_a_hint_and_usage_errors_exit_2(gannet, iris):
    missing = gannet("deployments", "show", "nope")
    assert missing.exit_code == 4
    assert "Error: no deployment named 'nope'" in missing.stderr
    assert "hint: list them: gannet deployments list" in missing.stderr
    assert "Traceback" not in missing.stderr

    zero = gannet("deployments", "create", "api", "-m", "iris", "--route", "1=0")
    assert zero.exit_code == 3
    assert "must be a finite number > 0, got 0.0" in zero.stderr
    other = gannet("deployments", "create", "api", "-m", "iris", "--route", "other/1=1")
    assert other.exit_code == 3 and "refers to model 'other'" in other.stderr

    ok(gannet("deployments", "create", "api", "-m", "iris"))
    not_a_number = gannet("deployments", "set-traffic", "api", "1=lots")
    assert not_a_number.exit_code == 2
    assert "is not a number" in not_a_number.stderr
    assert gannet("deployments", "set-traffic", "api").exit_code == 2  # no routes
    assert gannet("deployments", "set-shadows", "api").exit_code == 2  # no refs nor --clear
    assert gannet("deployments", "set-sticky-key", "api", "k", "--clear").exit_code == 2
    first = gannet("deployments", "rollback", "api")
    assert first.exit_code == 5 and "nothing to roll back to" in first.stderr
