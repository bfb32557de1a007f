"""The real ``mlflow`` client (mlflow-skinny), unchanged, against ``gannet server``: a typical
training-and-registration script, then what it wrote seen through Gannet's own SDK, CLI
and registry; and the errors its scripts branch on. On SQLite and PostgreSQL."""

import json
import os
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gannet.cli.app import app as cli_app
from gannet.models import load_model
from gannet.testing.mlflow_folders import mlflow_quietly
from gannet.testing.server import running_server

# mlflow's own advice to its users (pip requirements, signatures, its deprecations)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")


@pytest.fixture
def mlflow(open_server, monkeypatch):
    """mlflow pointed at the server (its registry too: no registry URI of its own is set,
    which mlflow would keep in the environment); no retries, so an error answers at once."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", open_server)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    module = mlflow_quietly()
    module.set_tracking_uri(open_server)
    yield module
    while module.active_run() is not None:
        module.end_run()
    module.set_tracking_uri(None)
    # the experiment set_experiment chose is the process's (a global and a variable of the
    # environment), and the next test has a new store
    module.tracking.fluent._active_experiment_id = None
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, LogisticRegression(max_iter=500).fit(X, y)


def train(mlflow, iris, files: Path) -> tuple[str, str]:
    """The script a team runs today against MLflow's server; returns (run id, version)."""
    X, model = iris
    mlflow.set_experiment("iris")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_params({"solver": "lbfgs", "max_iter": 500})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.96, "f1": 0.95})
        mlflow.set_tag("team", "risk")
        mlflow.log_input(mlflow.data.from_pandas(X, name="iris-features"), context="training")
        (files / "notes.txt").write_text("trained on iris")
        (files / "plots").mkdir()
        (files / "plots" / "roc.txt").write_text("0.1,0.9")
        mlflow.log_artifact(str(files / "notes.txt"))
        mlflow.log_artifacts(str(files / "plots"), artifact_path="plots")
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="iris-clf",
                                        input_example=X.head(3),
                                        pip_requirements=["scikit-learn", "skops"])
    return run.info.run_id, info.registered_model_version


def test_a_typical_mlflow_script_runs_and_gannet_sees_what_it_wrote(
    mlflow, iris, tmp_path, sdk, settings
):
    from mlflow import MlflowClient

    gannet_client = sdk.get_client()
    X, model = iris
    run_id, version = train(mlflow, iris, tmp_path)
    client = MlflowClient()
    client.set_registered_model_alias("iris-clf", "champion", version)
    served = mlflow.pyfunc.load_model("models:/iris-clf@champion")
    assert list(served.predict(X.head(5))) == list(model.predict(X.head(5)))

    found = mlflow.search_runs(experiment_names=["iris"], filter_string="metrics.acc > 0.9",
                               order_by=["metrics.acc DESC"])
    assert list(found["run_id"]) == [run_id] and list(found["params.C"]) == ["1.0"]
    assert mlflow.search_runs(experiment_names=["iris"], filter_string="metrics.acc > 0.99"
                              ).empty
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [
        (0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert mlflow.register_model(f"runs:/{run_id}/model", "iris-clf").version == "2"

    # what it wrote, through Gannet's SDK
    experiment = gannet_client.get_experiment_by_name("iris")
    run = gannet_client.get_run(run_id)
    assert run.info.experiment_id == experiment.experiment_id
    assert run.info.run_name == "baseline" and run.info.status == "FINISHED"
    assert run.data.params == {"C": "1.0", "solver": "lbfgs", "max_iter": "500"}
    assert run.data.metrics == {"loss": 1 / 3, "acc": 0.96, "f1": 0.95}
    assert run.data.tags["team"] == "risk"
    [dataset] = [json.loads(v) for k, v in run.data.tags.items()
                 if k.startswith("mlflow.dataset.")]
    assert (dataset["name"], dataset["context"]) == ("iris-features", "training")
    assert [m.value for m in gannet_client.get_metric_history(run_id, "loss")] == [
        1.0, 0.5, 1 / 3]  # logged once, though log_model logs a run's points again
    assert gannet_client.read_artifact(run_id, "notes.txt") == b"trained on iris"
    assert gannet_client.read_artifact(run_id, "plots/roc.txt") == b"0.1,0.9"

    # ... and its registry: a real Gannet model version, aliased, signed, loadable
    champion = gannet_client.get_model_version_by_alias("iris-clf", "champion")
    assert (champion.version, champion.flavor, champion.run_id) == (1, "sklearn", run_id)
    assert champion.signing_key_id and champion.metrics["acc"] == 0.96
    loaded = load_model("iris-clf@champion")
    assert list(loaded.predict(X.head(5))) == list(model.predict(X.head(5)))
    assert [v.version for v in gannet_client.search_model_versions("iris-clf")] == [2, 1]

    shown = CliRunner().invoke(cli_app, [
        "--home", str(settings.home), "--metadata-url", settings.metadata_url,
        "--artifacts-url", settings.artifacts_url, "models", "show", "iris-clf"],
        env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    assert "champion" in shown.output and "sklearn" in shown.output


def test_errors_come_as_the_exceptions_mlflow_scripts_expect(mlflow):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    with pytest.raises(MlflowException) as missing:
        client.get_run("0" * 32)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name("no such experiment") is None

    with pytest.raises(MlflowException) as bad_filter:
        mlflow.search_runs(experiment_ids=["0"], filter_string="metrics.acc >> 0.5")
    assert bad_filter.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "position" in bad_filter.value.message

    with mlflow.start_run() as run:
        mlflow.log_param("lr", "0.1")
        with pytest.raises(MlflowException) as changed:
            mlflow.log_param("lr", "0.2")
        assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run.info.run_id).data.params == {"lr": "0.1"}

    client.create_registered_model("twice")
    with pytest.raises(MlflowException) as again:
        client.create_registered_model("twice")
    assert again.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as no_version:
        client.get_model_version("twice", "7")
    assert no_version.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_runs_search_and_lifecycle_through_the_client(mlflow, sdk):
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient()
    experiment_id = mlflow.set_experiment("sweep").experiment_id
    for lr in (0.1, 0.2, 0.3):
        with mlflow.start_run(run_name=f"lr-{lr}"):
            mlflow.log_params({"lr": lr, "opt": "adam" if lr < 0.3 else "sgd"})
            mlflow.log_metric("acc", lr * 2)
    runs = client.search_runs([experiment_id], "params.opt = 'adam'", order_by=["metrics.acc"],
                              max_results=1)
    assert [r.data.params["lr"] for r in runs] == ["0.1"] and runs.token
    more = client.search_runs([experiment_id], "params.opt = 'adam'", order_by=["metrics.acc"],
                              max_results=1, page_token=runs.token)
    assert [r.data.params["lr"] for r in more] == ["0.2"]

    doomed = runs[0].info.run_id
    client.delete_run(doomed)
    assert len(client.search_runs([experiment_id])) == 2
    assert [r.info.run_id for r in client.search_runs(
        [experiment_id], run_view_type=ViewType.DELETED_ONLY)] == [doomed]
    client.restore_run(doomed)
    client.set_tag(doomed, "mlflow.runName", "renamed")
    assert client.get_run(doomed).info.run_name == "renamed"

    with mlflow.start_run(run_name="parent") as parent, mlflow.start_run(nested=True) as child:
        mlflow.log_metric("acc", 0.1)
    children = client.search_runs([experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert [r.info.run_id for r in children] == [child.info.run_id]
    assert sdk.get_client().get_run(child.info.run_id).info.parent_run_id == parent.info.run_id
    with mlflow.start_run(run_id=parent.info.run_id):  # resumed
        mlflow.log_param("resumed", "yes")
    resumed = client.get_run(parent.info.run_id)
    assert (resumed.data.params, resumed.info.status) == ({"resumed": "yes"}, "FINISHED")

    experiments = client.search_experiments(filter_string="name LIKE 'swe%'")
    assert [e.name for e in experiments] == ["sweep"]
    client.set_experiment_tag(experiment_id, "owner", "ana")
    assert client.get_experiment(experiment_id).tags["owner"] == "ana"


def test_a_gannet_logged_model_serves_mlflow_clients(mlflow, sdk, iris):
    """A model logged and registered with Gannet's SDK is an MLflow model version too."""
    X, model = iris
    with sdk.start_run() as run:
        sdk.log_model(model, "model", input_example=X.head(3))
    sdk.register_model(f"runs:/{run.info.run_id}/model", "gannet-made")
    sdk.get_client().set_registered_model_alias("gannet-made", "prod", 1)

    from mlflow import MlflowClient

    version = MlflowClient().get_model_version_by_alias("gannet-made", "prod")
    assert (version.version, version.run_id, version.status) == ("1", run.info.run_id, "READY")
    served = mlflow.sklearn.load_model("models:/gannet-made@prod")
    assert list(served.predict(X.head(3))) == list(model.predict(X.head(3)))
    assert os.environ["MLFLOW_TRACKING_URI"].startswith("http://127.0.0.1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyfunc = mlflow.pyfunc.load_model("models:/gannet-made/1")
    assert list(pyfunc.predict(X.head(3))) == list(model.predict(X.head(3)))


def test_a_model_folder_in_a_runs_artifacts_registers_as_mlflow_2_did(mlflow, iris, tmp_path,
                                                                       sdk):
    from mlflow.exceptions import MlflowException

    X, model = iris
    mlflow.sklearn.save_model(model, str(tmp_path / "saved"),
                              pip_requirements=["scikit-learn", "skops"])
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: some.unknown.loader\n")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "saved"), "legacy")
        mlflow.log_artifacts(str(tmp_path / "odd"), "odd")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/legacy", "legacy")
    assert version.source.startswith("mlflow-artifacts:/") and version.source.endswith("/legacy")
    made = sdk.get_client().get_model_version("legacy", 1)
    assert (made.flavor, made.run_id) == ("sklearn", run.info.run_id)
    assert list(load_model("legacy/1").predict(X.head(3))) == list(model.predict(X.head(3)))

    with pytest.raises(MlflowException) as refused:
        mlflow.register_model(f"runs:/{run.info.run_id}/odd", "odd")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Gannet imports" in refused.value.message
    assert sdk.get_client().search_model_versions("odd") == []


@pytest.fixture
def team(services):
    """A server with auth on: alice edits project a, rita reads it, bob edits project b."""
    auth = services.auth
    auth.bootstrap_admin()
    for name, project, role in (("alice", "a", "editor"), ("rita", "a", "reader"),
                                ("bob", "b", "editor")):
        auth.create_user(name, password=f"{name}-password")
        if project not in {p.name for p in auth.list_projects()}:
            auth.create_project(project)
        auth.add_member(project, name, role)
    tokens = {u: auth.create_token("mlflow", user=u).secret for u in ("alice", "rita", "bob")}
    with running_server(services, auth=True) as url:
        yield url, tokens


def test_tokens_workspaces_and_roles_hold_for_mlflow_clients(team, monkeypatch, services, iris):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    url, tokens = team
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow = mlflow_quietly()
    mlflow.set_tracking_uri(url)
    with pytest.raises(MlflowException) as anonymous:
        MlflowClient().search_experiments()
    assert anonymous.value.error_code == "UNAUTHENTICATED"

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens["alice"])
    monkeypatch.setenv("MLFLOW_WORKSPACE", "a")  # MLflow's workspace: Gannet's project
    try:
        experiment_id = mlflow.set_experiment("alice-exp").experiment_id
        with mlflow.start_run() as run:
            mlflow.log_metric("acc", 0.9)
            mlflow.sklearn.log_model(iris[1], name="model", registered_model_name="alice-model",
                                     pip_requirements=["scikit-learn", "skops"])
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.tracking.fluent._active_experiment_id = None
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    assert services.tracking.get_experiment(experiment_id).project == "a"
    assert services.registry.get_registered_model("alice-model").project == "a"
    assert services.tracking.get_run(run.info.run_id).info.user_id == "alice"

    monkeypatch.delenv("MLFLOW_WORKSPACE")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens["rita"])
    client = MlflowClient()
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run.info.run_id]
    with pytest.raises(MlflowException) as reader:
        client.log_metric(run.info.run_id, "acc", 1.0)
    assert reader.value.error_code == "PERMISSION_DENIED"

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens["bob"])
    with pytest.raises(MlflowException) as outsider:
        MlflowClient().get_run(run.info.run_id)
    assert outsider.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as hidden:
        MlflowClient().get_model_version("alice-model", "1")
    assert hidden.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "alice-password")
    assert MlflowClient().get_run(run.info.run_id).data.metrics == {"acc": 0.9}
    mlflow.set_tracking_uri(None)
