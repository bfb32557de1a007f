"""``gannet import mlflow`` copies a real MLflow store (filled by the mlflow client) into
Gannet, idempotently; what it copied is checked through Gannet's SDK."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_iris

from gannet.client.client import GannetClient
from gannet.testing.mlflow_store import add_run, fill_mlflow_store


@pytest.fixture
def mlflow_store(tmp_path):
    """A store of this test's own (the test adds to it)."""
    return fill_mlflow_store(tmp_path / "mlflow")


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One store for the tests that only read it."""
    return fill_mlflow_store(tmp_path_factory.mktemp("shared") / "mlflow")


@pytest.fixture
def client(settings):
    client = GannetClient(settings)
    yield client
    client.close()


def _imported(client) -> dict[str, object]:
    """MLflow run id -> Gannet run, for every run copied from MLflow."""
    ids = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(ids, "tags.mlflow.source_run_id IS NOT NULL")
    return {run.data.tags["mlflow.source_run_id"]: run for run in runs}


def test_an_mlflow_store_is_copied_once_and_then_only_what_is_new(gannet, client, mlflow_store):
    done = gannet("import", "mlflow", "--tracking-uri", mlflow_store.uri, "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["experiments_created"], report["runs_copied"], report["versions_copied"],
            report["aliases_set"], report["skipped"]) == (2, 3, 2, 1, [])
    assert report["metric_points"] == 9 and report["artifact_files"] == 6

    for name in ("churn", "fraud"):
        experiment = client.get_experiment_by_name(name)
        assert experiment.tags["team"] == name
        assert experiment.tags["mlflow.source_experiment_id"] == mlflow_store.experiments[name]
    runs = _imported(client)
    assert set(runs) == set(mlflow_store.runs.values())
    failed = runs[mlflow_store.runs["rf-200"]]
    assert (failed.info.run_name, failed.info.status) == ("rf-200", "FAILED")
    assert failed.info.start_time == 1_700_000_000_000
    assert failed.info.end_time == 1_700_000_100_000
    assert failed.data.params == {"n_estimators": "200"} and failed.data.tags["owner"] == "ana"
    gbm = runs[mlflow_store.runs["gbm"]]
    history = client.get_metric_history(gbm.run_id, "loss")
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (i, v, 1_700_000_000_000 + i) for i, v in enumerate([0.7, 0.6, 0.2, 0.1])]
    assert client.read_artifact(gbm.run_id, "report.txt") == b"report of gbm\n"
    assert client.read_artifact(gbm.run_id, "plots/curve.csv").startswith(b"step,loss")

    model = client.get_registered_model("iris")
    assert model.description == "iris classifier" and model.aliases == {"champion": 2}
    champion = client.get_model_version_by_alias("iris", "champion")
    assert champion.run_id == gbm.run_id  # linked to the copied run
    assert champion.tags["mlflow.source_version"] == "2" and champion.signing_key_id
    assert champion.flavor == "sklearn"
    X, _ = load_iris(return_X_y=True, as_frame=True)
    loaded = client.load_model("iris@champion")  # skops: loads verified, no trust needed
    np.testing.assert_array_equal(loaded.predict(X), mlflow_store.model.predict(X))

    again = gannet("import", "mlflow", "--tracking-uri", mlflow_store.uri)
    assert again.exit_code == 0, again.output
    assert "nothing new to copy" in again.stdout
    assert len(_imported(client)) == 3 and len(client.search_model_versions("iris")) == 2

    new_id = add_run(mlflow_store, "fraud", "gbm-2", {"depth": "4"}, losses=[0.5, 0.05])
    third = gannet("import", "mlflow", "--tracking-uri", mlflow_store.uri, "--json")
    report = json.loads(third.stdout)
    assert (report["runs_copied"], report["runs_existing"], report["versions_copied"],
            report["experiments_created"]) == (1, 3, 0, 0)
    runs = _imported(client)
    assert len(runs) == 4 and runs[new_id].info.run_name == "gbm-2"


def test_a_dry_run_counts_and_writes_nothing(gannet, client, shared_store):
    done = gannet("import", "mlflow", "--tracking-uri", shared_store.uri, "--dry-run")
    assert done.exit_code == 0, done.output
    assert "3 would copy" in done.stdout and "dry run: nothing was written" in done.stdout
    assert _imported(client) == {} and client.search_registered_models() == []
    assert client.get_experiment_by_name("churn") is None


def test_one_experiment_only_and_the_versions_of_its_runs(gannet, client, shared_store):
    done = gannet("import", "mlflow", "--tracking-uri", shared_store.uri,
                  "--experiment", "churn", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["runs_copied"], report["versions_copied"]) == (2, 1)
    assert report["skipped"] == ["iris@champion: its version 2 was not imported"]
    assert client.get_experiment_by_name("fraud") is None
    assert [v.tags["mlflow.source_version"] for v in client.search_model_versions("iris")] == ["1"]


def test_a_store_that_is_not_there_is_refused_and_not_created(gannet, tmp_path):
    missing = tmp_path / "nowhere" / "mlflow.db"
    done = gannet("import", "mlflow", "--tracking-uri", f"sqlite:///{missing}")
    assert done.exit_code == 4, done.output
    assert "no MLflow store at" in done.output and not missing.exists()


def test_an_unknown_experiment_is_named_with_those_there_are(gannet, shared_store):
    done = gannet("import", "mlflow", "--tracking-uri", shared_store.uri, "-e", "nope")
    assert done.exit_code == 4, done.output
    assert "no active experiment named 'nope'" in done.output
    assert "churn, fraud" in done.output
