"""``gannet models|keys|roles|audit`` through the CLI, on real stores."""

import json

import pytest


@pytest.fixture
def logged_run(settings):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet import GannetClient

    client = GannetClient(settings)
    X, y = load_iris(return_X_y=True)
    run = client.create_run("0")
    client.log_metric(run.run_id, "accuracy", 0.95)
    client.log_model(run.run_id, LogisticRegression(max_iter=500).fit(X, y), input_example=X[:2])
    client.set_terminated(run.run_id)
    client.close()
    return run.run_id


def test_register_alias_promote_card_and_audit(gannet, logged_run, tmp_path):
    done = gannet("models", "register", logged_run, "iris", "-d", "first")
    assert done.exit_code == 0, done.output
    assert "registered iris version 1" in done.stdout
    assert gannet("models", "register", f"runs:/{logged_run}/model", "iris").exit_code == 0

    listed = json.loads(gannet("models", "list", "--json").stdout)
    assert [(m["name"], m["latest_version"]) for m in listed] == [("iris", "2")]

    aliased = gannet("models", "set-alias", "iris", "champion", "1")
    assert "iris@champion -> version 1" in aliased.stdout
    shown = json.loads(gannet("models", "show", "iris@champion", "--json").stdout)
    assert shown["version"] == "1"  # a version is text in every --json, as over HTTP
    assert shown["aliases"] == ["champion"]

    policy = tmp_path / "policy.yaml"
    policy.write_text("aliases:\n  champion:\n    - metric: accuracy\n      min: 0.99\n")
    assert gannet("models", "set-policy", "iris", str(policy)).exit_code == 0
    refused = gannet("models", "promote", "iris", "2", "champion", "-r", "try")
    assert refused.exit_code == 1
    assert "FAIL" in refused.stdout
    assert "accuracy = 0.95, needs >= 0.99" in refused.stdout
    assert "unchanged" in refused.stdout
    assert "min: 0.99" in gannet("models", "show", "iris", "--policy").stdout
    assert gannet("models", "set-policy", "iris", "--clear").exit_code == 0
    promoted = gannet("models", "promote", "iris", "2", "champion", "-r", "no gates now")
    assert promoted.exit_code == 0
    assert "iris@champion -> version 2 (was 1)" in promoted.stdout

    card = tmp_path / "card.html"
    edited = gannet("models", "card", "iris/2", "--set", "intended_use=teaching", "-o", str(card))
    assert edited.exit_code == 0
    assert "teaching" in card.read_text()
    assert "# Model card: iris version 2" in gannet("models", "card", "iris@champion").stdout

    audit = json.loads(gannet("audit", "model:iris@champion", "--json").stdout)
    assert [e["action"] for e in audit] == ["alias.promote", "alias.set"]
    assert audit[0]["detail"]["reason"] == "no gates now"


def test_errors_have_hints(gannet, logged_run):
    missing = gannet("models", "show", "nope@champion")
    assert missing.exit_code == 4
    assert "no registered model named 'nope'" in missing.stderr
    assert "hint:" in missing.stderr
    assert gannet("models", "register", logged_run, "iris").exit_code == 0
    wrong = gannet("models", "set-alias", "iris", "v2", "1")
    assert wrong.exit_code == 3
    assert "not a version like 'v3'" in wrong.stderr


def test_keys_and_roles(gannet, settings):
    made = gannet("keys", "create")
    assert made.exit_code == 0, made.output
    key_id = made.stdout.split("created signing key ")[1].split(":")[0]
    assert key_id in gannet("keys", "list").stdout
    again = gannet("keys", "create")
    assert again.exit_code == 5
    assert "already exists" in again.stderr
    assert gannet("roles", "grant", "ana", "ml-lead").exit_code == 0
    assert "ana: ml-lead" in gannet("roles", "list").stdout
    assert gannet("roles", "revoke", "ana", "ml-lead").exit_code == 0
    assert "ana" not in gannet("roles", "list").stdout


def test_import_an_mlflow_model_folder(gannet, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet.testing.mlflow_folders import write_mlflow_folder

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    folder = write_mlflow_folder(tmp_path / "mlflow-model", model)
    done = gannet("models", "import-mlflow", str(folder), "iris")
    assert done.exit_code == 0, done.output
    assert "as iris version 1" in done.stdout
    shown = json.loads(gannet("models", "show", "iris/1", "--json").stdout)
    assert shown["flavor"] == "sklearn"
    assert shown["signing_key_id"]
