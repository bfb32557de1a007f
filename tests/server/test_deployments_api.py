"""Deployments and the audit log over the team server, through the remote services and
the CLI with GANNET_URI, over real HTTP."""

import json
import math
import tarfile

import pytest
from typer.testing import CliRunner

from gannet.bootstrap import build
from gannet.cli.app import app
from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings


@pytest.fixture
def remote(open_server, tmp_path):
    (tmp_path / "client").mkdir()
    settings = Settings.load(environ={}, cwd=tmp_path / "client",
                             home=tmp_path / "client-home", uri=open_server, progress=False)
    services = build(settings)
    yield services
    services.close()


@pytest.fixture
def iris(remote, tmp_path):
    """Model ``iris`` at versions 1 and 2, registered from a client's package folder."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet.models.package import save_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    save_model(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "pkg",
               input_example=X.head(3))
    for _ in range(2):
        remote.registry.register_model(tmp_path / "pkg", "iris")
    return remote


def routes_of(state) -> dict[str, float]:
    return {r.ref: r.weight for r in state.routes}


def test_a_deployments_life_through_the_server(iris, services):
    deployments = iris.deployments
    first = deployments.create_deployment("iris-api", "iris", {"1": 3, "v2": 1},
                                          description="the endpoint", reason="launch")
    assert routes_of(first) == {"iris/1": 3.0, "iris/2": 1.0}
    assert first == services.deployments.get_deployment_state("iris-api")
    assert deployments.get_deployment("iris-api").resolved == {"iris/1": 1, "iris/2": 2}
    deployments.set_deployment_shadows("iris-api", None)  # nothing to change: no revision
    deployments.set_deployment_traffic("iris-api", {"@latest": 1}, reason="all to latest")
    deployments.set_deployment_shadows("iris-api", [1])
    deployments.set_deployment_sticky_key("iris-api", "X-User")
    deployments.set_deployment_log_fields("iris-api", masked=["petal width (cm)"])
    back = deployments.rollback_deployment("iris-api", "oops", to=1)
    assert (back.revision, routes_of(back), back.shadows) == (6, routes_of(first), ())
    history = deployments.get_deployment_history("iris-api")
    assert [s.revision for s in history] == [6, 5, 4, 3, 2, 1]
    assert [s.name for s in deployments.list_deployments("iris")] == ["iris-api"]
    assert deployments.list_deployments("other") == []
    entries = iris.auth.search_audit_log("deployment:iris-api", limit=3)
    assert [e.action for e in entries] == [
        "deployment.rollback", "deployment.log_fields", "deployment.sticky"]
    assert entries[0].detail["restored_revision"] == 1
    deployments.delete_deployment("iris-api")
    with pytest.raises(NotFound, match="no deployment named 'iris-api'") as info:
        deployments.get_deployment_state("iris-api")
    assert info.value.hint == "list them: gannet deployments list"


@pytest.mark.parametrize(
    ("weight", "message"),
    [(math.nan, "finite number > 0, got nan"), (-math.inf, "finite number > 0, got -inf"),
     ("10", "must be a number, got '10'"), (True, "must be a number, got True")],
)
def test_weights_are_refused_as_the_service_refuses_them(iris, weight, message):
    with pytest.raises(InvalidArgument, match=message):
        iris.deployments.create_deployment("iris-api", "iris", {"1": weight})
    assert iris.deployments.list_deployments() == []


def test_the_bundle_comes_back_as_the_files_it_wrote(iris, tmp_path, http):
    iris.deployments.create_deployment("iris-api", "iris", {"1": 1})
    files = iris.deployments.bundle_deployment("iris-api", tmp_path / "out", port=9000)
    names = [p.relative_to(tmp_path / "out").as_posix() for p in files]
    assert names[:2] == ["Dockerfile", "requirements.txt"]
    assert {"k8s/deployment.yaml", "gannet.toml"} <= set(names)
    assert any(n.startswith("keys/trusted/") for n in names)  # the server's signer
    assert all(p.is_file() for p in files)
    assert "9000" in (tmp_path / "out" / "Dockerfile").read_text()
    answer = http.get("/api/v1/deployments/iris-api/bundle", params={"replicas": 3})
    assert answer.headers["content-type"] == "application/gzip"
    (tmp_path / "b.tar.gz").write_bytes(answer.content)
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        assert all(m.isfile() and not m.name.startswith(("/", "..")) for m in tar)
    missing = http.get("/api/v1/deployments/nope/bundle")
    assert (missing.status_code, missing.json()["code"]) == (404, NotFound.code)


def test_the_cli_with_gannet_uri_talks_to_the_server(iris, open_server, tmp_path):
    runner = CliRunner()
    env = {"GANNET_URI": open_server, "GANNET_HOME": str(tmp_path / "cli-home")}

    def gannet(*args: str) -> str:
        done = runner.invoke(app, [*args], env=env, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return done.output

    models = json.loads(gannet("models", "list", "--json"))
    assert [(m["name"], m["latest_version"]) for m in models] == [("iris", "2")]  # text
    gannet("models", "set-alias", "iris", "champion", "1")
    shown = json.loads(gannet("models", "show", "iris@champion", "--json"))
    assert (shown["version"], shown["aliases"]) == ("1", ["champion"])
    assert "# Model card: iris version 1" in gannet("models", "card", "iris/1")
    gannet("deployments", "create", "iris-api", "--model", "iris")
    listed = json.loads(gannet("deployments", "list", "--json"))
    assert [d["name"] for d in listed] == ["iris-api"]
    gannet("deployments", "set-traffic", "iris-api", "1=90", "2=10", "--reason", "canary")
    rolled = json.loads(gannet("deployments", "rollback", "iris-api", "--json"))
    assert rolled["revision"] == 3
    entries = json.loads(gannet("audit", "deployment:iris-api", "--json"))
    assert [e["action"] for e in entries][:2] == ["deployment.rollback", "deployment.traffic"]
    keys = json.loads(gannet("keys", "list", "--json"))
    assert len(keys) == 1 and keys[0]["path"] is None and keys[0]["is_signing_key"]
    made = runner.invoke(app, ["keys", "create"], env=env)  # an operator's act, on the server
    assert made.exit_code == 1 and "made on the server's machine" in made.output
    failed = runner.invoke(app, ["models", "show", "nope", "--json"], env=env)
    assert failed.exit_code == 4
    assert json.loads(failed.output)["error"]["code"] == NotFound.code


def test_a_deployments_features_through_the_server(iris, services, tmp_path):
    """Features set over REST reach the state the inference servers read; a feature the
    server's feature store does not know is refused there, naming close matches."""
    import pandas as pd

    from gannet.features import Entity, FeatureView

    source = tmp_path / "stats.parquet"
    pd.DataFrame({"flower_id": [1], "event_timestamp": [pd.Timestamp("2026-01-01")],
                  "petals": [3.0]}).to_parquet(source)
    flower = Entity("flower", ["flower_id"])
    services.features.apply([flower, FeatureView("stats", [flower], str(source), ["petals"])])
    deployments = iris.deployments
    deployments.create_deployment("iris-features", "iris", {"1": 1},
                                  features=["stats:petals"], feature_defaults={"petals": 0.0})
    changed = deployments.set_deployment_features(
        "iris-features", ["stats:petals"], on_unavailable="defaults", reason="lenient")
    assert (changed.revision, changed.features_on_unavailable) == (2, "defaults")
    assert changed.feature_defaults == ()
    assert services.deployments.get_deployment_state("iris-features") == changed
    with pytest.raises(NotFound, match="stats:petal") as caught:
        deployments.set_deployment_features("iris-features", ["stats:petal"])
    assert "stats:petals" in caught.value.hint
    with pytest.raises(InvalidArgument, match="on_unavailable"):
        deployments.set_deployment_features("iris-features", ["stats:petals"],
                                            on_unavailable="maybe")
