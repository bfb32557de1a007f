"""``gannet.data.add/open/resolve`` and ``gannet.log_input`` in Python: DataFrames in,
DataFrames, Arrow datasets and paths out; lineage from a run to its model versions."""

import json

import pandas as pd
import pyarrow as pa
import pytest


def test_a_pandas_frame_is_versioned_as_parquet_and_unchanged_frames_add_nothing(sdk):
    frame = pd.DataFrame({"id": [1, 2, 3], "x": [0.5, 1.5, 2.5]})
    first = sdk.data.add(frame, name="frame", message="three rows")
    assert first.created and first.version.ref == "frame@1"
    assert first.version.columns == ("id", "x")
    assert not sdk.data.add(frame.copy(), name="frame").created
    back = sdk.data.open("frame@1", as_="pandas")
    pd.testing.assert_frame_equal(back, frame)


def test_polars_and_arrow_tables_go_in_and_come_out(sdk):
    polars = pytest.importorskip("polars")
    sdk.data.add(polars.DataFrame({"a": [1, 2]}), name="pl")
    sdk.data.add(pa.table({"a": [3, 4]}), name="arrow")
    assert sdk.data.open("pl", as_="polars")["a"].to_list() == [1, 2]
    dataset = sdk.data.open("arrow@latest", as_="arrow")
    assert dataset.to_table().column("a").to_pylist() == [3, 4]


def test_open_as_a_path_gives_a_verified_local_copy_made_once(sdk, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        pd.DataFrame({"k": [i]}).to_parquet(src / f"part-{i}.parquet")
    sdk.data.add(src, name="parts")
    path = sdk.data.open("parts@1")
    assert sorted(p.name for p in path.iterdir()) == [f"part-{i}.parquet" for i in range(3)]
    assert sdk.data.open("parts@1") == path
    assert sorted(sdk.data.open("parts", as_="pandas")["k"]) == [0, 1, 2]
    assert sdk.data.resolve("parts").manifest.total_size == sum(
        p.stat().st_size for p in src.iterdir())


def test_open_refuses_an_unknown_form_and_a_folder_without_tables(sdk, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    sdk.data.add(tmp_path / "notes.txt", name="notes")
    with pytest.raises(sdk.GannetError, match="as 'excel'"):
        sdk.data.open("notes", as_="excel")
    with pytest.raises(sdk.GannetError, match="no table files"):
        sdk.data.open("notes", as_="pandas")
    with pytest.raises(sdk.GannetError, match="cannot add a dict"):
        sdk.data.add({"a": 1}, name="dict")


@pytest.mark.slow
def test_log_input_links_dataset_versions_runs_and_model_versions_both_ways(sdk, gannet):
    sklearn = pytest.importorskip("sklearn.linear_model")
    sdk.data.add(pd.DataFrame({"x": [0.0, 1.0], "y": [0, 1]}), name="churn")
    with sdk.start_run() as run:
        sdk.log_input("churn@1", context="training")
        sdk.data.log_input("churn@latest", "evaluation")
        model = sklearn.LogisticRegression().fit([[0.0], [1.0]], [0, 1])
        sdk.log_model(model, "model")
    sdk.register_model(f"runs:/{run.info.run_id}/model", "churn-model")
    usage = lineage(gannet, "churn@1")
    assert {(r["run_id"], r["context"]) for r in usage["runs"]} == {
        (run.info.run_id, "training"), (run.info.run_id, "evaluation")}
    assert usage["model_versions"] == ["churn-model/1"]
    back = lineage(gannet, "churn-model/1")
    assert {d["dataset_version"] for d in back["datasets"]} == {"churn@1"}
    by_run = lineage(gannet, f"runs:/{run.info.run_id}")
    assert by_run["model_versions"] == ["churn-model/1"] and len(by_run["datasets"]) == 2
    shown = gannet("lineage", "churn@1")
    assert shown.exit_code == 0 and "churn-model/1" in shown.output


def lineage(gannet, ref):
    result = gannet("lineage", ref, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_log_input_outside_a_run_starts_one_as_log_param_does(sdk):
    sdk.data.add(pd.DataFrame({"x": [1]}), name="d")
    assert sdk.log_input("d@1").ref == "d@1"
    assert sdk.active_run() is not None
    sdk.end_run()


def test_log_input_of_a_missing_version_fails_clearly(sdk):
    sdk.data.add(pd.DataFrame({"x": [1]}), name="d")
    with sdk.start_run(), pytest.raises(sdk.GannetError, match="d@9"):
        sdk.log_input("d@9")


def test_the_cached_copy_is_read_only(sdk, tmp_path):
    (tmp_path / "f.txt").write_text("shared")
    sdk.data.add(tmp_path / "f.txt", name="ro")
    path = sdk.data.open("ro")
    assert path.read_text() == "shared" and path.stat().st_mode & 0o222 == 0
