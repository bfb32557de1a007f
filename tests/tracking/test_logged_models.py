"""What the MLflow API asks of the tracking service: logged models (MLflow 3's) and their
files, streamed artifacts, experiment searches in MLflow's language, metric history in
pages, and points logged again to link them to a model."""

import io
import math

import pytest

from gannet.bootstrap import build
from gannet.core.errors import InvalidArgument, InvalidState, NotFound
from gannet.tracking.types import LoggedModelStatus, Metric, ViewType


@pytest.fixture
def tracking(settings):
    services = build(settings)
    yield services.tracking
    services.close()


@pytest.fixture
def run_id(tracking):
    return tracking.create_run(tracking.create_experiment("e")).run_id


def test_a_logged_model_is_made_filled_finalized_found_and_deleted(tracking, run_id):
    experiment_id = tracking.get_run(run_id).info.experiment_id
    made = tracking.create_logged_model(experiment_id, name="model", source_run_id=run_id,
                                        tags={"t": "1"}, params={"C": "0.5"})
    assert made.model_id.startswith("m-") and made.status == LoggedModelStatus.PENDING
    assert (made.tags, made.params, made.source_run_id) == ({"t": "1"}, {"C": "0.5"}, run_id)
    tracking.log_logged_model_stream(made.model_id, io.BytesIO(b"flavors: {}"), "MLmodel")
    tracking.log_logged_model_stream(made.model_id, io.BytesIO(b"x" * 10), "data/w.bin")
    large = b"y" * (3 << 20)  # over what is stored inside the indexing transaction
    assert tracking.log_logged_model_stream(made.model_id, io.BytesIO(large), "data/big.bin"
                                            ).size == len(large)
    assert [(f.path, f.is_dir) for f in tracking.list_logged_model_artifacts(made.model_id)] == [
        ("MLmodel", False), ("data", True)]
    assert [f.size for f in tracking.list_logged_model_artifacts(made.model_id, "data")] == [
        len(large), 10]
    reader, size = tracking.open_logged_model_artifact(made.model_id, "data/w.bin")
    with reader:
        assert (reader.read(), size) == (b"x" * 10, 10)
    assert tracking.finalize_logged_model(made.model_id, "ready").status == "READY"
    with pytest.raises(InvalidArgument, match="READY or FAILED"):
        tracking.finalize_logged_model(made.model_id, "PENDING")
    tracking.set_logged_model_tags(made.model_id, {"mlflow.modelVersions": "[]"})
    tracking.delete_logged_model_tag(made.model_id, "t")
    tracking.log_logged_model_params(made.model_id, {"seed": "7"})
    other = tracking.create_logged_model(experiment_id, name="other")
    found = tracking.search_logged_models([experiment_id],
                                          filter_string=f"source_run_id = '{run_id}'")
    assert [m.model_id for m in found] == [made.model_id]
    assert found[0].tags == {"mlflow.modelVersions": "[]"}
    assert found[0].params == {"C": "0.5", "seed": "7"}
    assert [m.name for m in tracking.search_logged_models(
        [experiment_id], order_by=["name DESC"])] == ["other", "model"]
    assert tracking.search_logged_models([experiment_id], filter_string="params.C = '0.5'"
                                         )[0].model_id == made.model_id
    tracking.delete_logged_model(made.model_id)
    with pytest.raises(NotFound, match="no logged model"):
        tracking.get_logged_model(made.model_id)
    assert [m.model_id for m in tracking.search_logged_models([experiment_id])] == [
        other.model_id]


def test_logged_models_refuse_what_cannot_be(tracking, run_id):
    experiment_id = tracking.get_run(run_id).info.experiment_id
    with pytest.raises(NotFound):
        tracking.create_logged_model(experiment_id, source_run_id="f" * 32)
    tracking.delete_experiment(experiment_id)
    with pytest.raises(InvalidState, match="deleted"):
        tracking.create_logged_model(experiment_id)
    with pytest.raises(NotFound):
        tracking.log_logged_model_stream("m-nothing", io.BytesIO(b"x"), "MLmodel")
    with pytest.raises(InvalidArgument, match="outside"):
        tracking.logged_model_files("m-nothing", "../x")


def test_garbage_collection_keeps_a_logged_models_files(settings, tmp_path):
    services = build(settings)
    tracking = services.tracking
    model = tracking.create_logged_model(tracking.create_experiment("gc"))
    tracking.log_logged_model_stream(model.model_id, io.BytesIO(b"kept bytes" * 99), "f.bin")
    report = services.gc.collect(older_than=0)
    reader, _ = tracking.open_logged_model_artifact(model.model_id, "f.bin")
    with reader:
        assert reader.read() == b"kept bytes" * 99
    tracking.delete_logged_model(model.model_id)
    assert services.gc.collect(older_than=0).blobs_deleted == report.blobs_deleted + 1
    services.close()


def test_an_artifact_streams_in_replaces_and_is_deleted(tracking, run_id):
    big = bytes(range(256)) * (5 * 4096 + 1)  # over one read of the blob store
    info = tracking.log_artifact_stream(run_id, io.BytesIO(big), "data/big.bin")
    assert info.size == len(big)
    tracking.log_artifact_stream(run_id, io.BytesIO(b"v1"), "data/small.txt")
    tracking.log_artifact_stream(run_id, io.BytesIO(b"v2"), "data/small.txt")
    assert tracking.read_artifact(run_id, "data/small.txt") == b"v2"
    opened = tracking.open_artifact(run_id, "data/big.bin")
    with opened.reader as reader:
        assert (reader.read(), opened.stop) == (big, len(big))
    assert tracking.delete_artifacts(run_id, "data") == 2
    assert tracking.list_artifacts(run_id) == []
    with pytest.raises(InvalidArgument, match="root"):
        tracking.delete_artifacts(run_id, "")
    with pytest.raises(InvalidArgument, match="outside"):
        tracking.log_artifact_stream(run_id, io.BytesIO(b"x"), "../escape")


def test_experiments_are_searched_in_mlflows_language(tracking):
    ids = {name: tracking.create_experiment(name, {"team": team})
           for name, team in (("churn-a", "risk"), ("churn-b", "growth"), ("fraud", "risk"))}
    assert [e.name for e in tracking.search_experiments(
        filter_string="name LIKE 'churn%' AND tags.team = 'risk'")] == ["churn-a"]
    assert [e.name for e in tracking.search_experiments(
        filter_string="tags.team != 'none'", order_by=["name DESC"])] == [
        "fraud", "churn-b", "churn-a"]
    tracking.delete_experiment(ids["fraud"])
    assert [e.name for e in tracking.search_experiments(
        ViewType.DELETED, filter_string="name ILIKE 'FRAUD'")] == ["fraud"]
    with pytest.raises(InvalidArgument, match="experiment searches have no metrics"):
        tracking.search_experiments(filter_string="metrics.acc > 1")
    with pytest.raises(InvalidArgument, match="unknown attribute 'size'"):
        tracking.search_experiments(filter_string="size = '3'")


def test_metric_history_in_pages_and_points_logged_again(tracking, run_id):
    points = [Metric("loss", float(i), 1000 + i, i) for i in range(5)]
    tracking.log_batch(run_id, metrics=[*points, Metric("loss", math.nan, 2000, 9)])
    assert [m.step for m in tracking.get_metric_history(run_id, "loss", offset=2, limit=2)] == [
        2, 3]
    with pytest.raises(InvalidArgument, match="offset"):
        tracking.get_metric_history(run_id, "loss", offset=-1)
    tracking.log_batch(run_id, metrics=[*points[:2], Metric("loss", math.nan, 2000, 9),
                                        Metric("loss", 7.0, 3000, 10)],
                       skip_logged_points=True)
    history = tracking.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4, 9, 10]  # only the new point
    tracking.log_batch(run_id, metrics=points[:1])  # without the option: appended
    assert len(tracking.get_metric_history(run_id, "loss")) == 8
