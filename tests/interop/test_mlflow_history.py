"""``GannetClient.import_mlflow``: what an import cannot copy is skipped and named, a run
left half-copied is copied again, and progress is reported."""

import warnings

import pytest

from gannet.client.client import GannetClient
from gannet.testing.mlflow_folders import write_mlflow_folder
from gannet.testing.mlflow_store import fill_mlflow_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The filled store plus ``torchy``: a version whose flavor (pytorch) Gannet does not import."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("history")
    filled = fill_mlflow_store(root / "mlflow")
    X, y = load_iris(return_X_y=True, as_frame=True)
    flavors = {"python_function": {"loader_module": "mlflow.pytorch"}, "pytorch": {}}
    folder = write_mlflow_folder(root / "torchy", LogisticRegression(max_iter=500).fit(X, y),
                                flavors=flavors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled.client.create_registered_model("torchy")
        filled.client.create_model_version("torchy", str(folder))
        filled.client.set_registered_model_alias("torchy", "prod", "1")
    return filled


@pytest.fixture
def client(settings):
    client = GannetClient(settings)
    yield client
    client.close()


def test_a_flavor_gannet_does_not_import_is_skipped_and_named(client, store):
    seen = []
    report = client.import_mlflow(store.uri, progress=lambda done, total: seen.append(
        (done, total)))
    assert report.versions_copied == 2 and report.runs_copied == 3
    assert report.skipped == [
        "torchy version 1: " + report.skipped[0].split(": ", 1)[1],
        "torchy@prod: its version 1 was not imported",
    ]
    assert "MLflow flavors python_function (loader mlflow.pytorch), pytorch" in report.skipped[0]
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)  # 3 runs and 3 versions to copy
    assert client.search_model_versions("torchy") == []  # created, but holds nothing


def test_a_run_left_half_copied_is_copied_again(client, store):
    client.import_mlflow(store.uri)
    mlflow_id = store.runs["gbm"]
    [half] = client.search_runs(
        [client.get_experiment_by_name("fraud").experiment_id],
        f"tags.mlflow.source_run_id = '{mlflow_id}'")
    client.log_batch(half.run_id, tags={"gannet.import.state": "copying"})  # as if cut short

    report = client.import_mlflow(store.uri)
    assert (report.runs_recopied, report.runs_copied, report.runs_existing) == (1, 1, 2)
    assert client.get_run(half.run_id).info.lifecycle_stage == "deleted"
    [again] = client.search_runs(
        [client.get_experiment_by_name("fraud").experiment_id],
        f"tags.mlflow.source_run_id = '{mlflow_id}'")
    assert again.run_id != half.run_id and again.data.tags["gannet.import.state"] == "done"
    assert len(client.get_metric_history(again.run_id, "loss")) == 4
