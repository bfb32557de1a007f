"""Batch inference over real Parquet and CSV files with a real registered model."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gannet.core.errors import InvalidArgument, ModelFailed, NotFound
from gannet.serving.batch import predict_file
from gannet.serving.log import InferenceLog, InferenceLogWriter


def iris_frame(rows: int = 1000) -> pd.DataFrame:
    from sklearn.datasets import load_iris

    X = load_iris(as_frame=True).data
    tiled = pd.concat([X] * (rows // len(X) + 1), ignore_index=True).iloc[:rows]
    noise = np.random.default_rng(0).normal(0, 0.3, tiled.shape)
    return (tiled + noise).reset_index(drop=True)


def fit_iris():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    return LogisticRegression(max_iter=500).fit(X, y), X


@pytest.fixture
def registered(sdk):
    """A LogisticRegression on iris, logged in a run, registered, loaded from the registry."""
    raw, X = fit_iris()
    with sdk.start_run(log_environment=False) as run:
        sdk.log_model(raw, "model", input_example=X.head(3))
    sdk.register_model(run.info.run_id, "iris")
    return sdk.models.load_model("iris/1"), raw


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """The same kind of model as a package folder (no metadata store: a cheaper fixture)."""
    from gannet.models.package import load_package, save_model

    raw, X = fit_iris()
    folder = tmp_path_factory.mktemp("package") / "iris"
    save_model(raw, folder, input_example=X.head(3))
    return load_package(folder), raw


def write_parquet(frame: pd.DataFrame, path: Path, row_group_size: int = 128) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path,
                   row_group_size=row_group_size)
    return path


def test_parquet_in_chunks_equals_predicting_the_whole_frame(registered, tmp_path):
    model, raw = registered
    tmp_path = tmp_path / "files"  # beside the test's Gannet home
    tmp_path.mkdir()
    frame = iris_frame(1000)
    source = write_parquet(frame, tmp_path / "in.parquet")
    result = predict_file(model, source, tmp_path / "out.parquet", chunk_rows=300, progress=True)
    assert (result.rows, result.chunks, result.dest) == (1000, 4, tmp_path / "out.parquet")
    assert result.seconds > 0
    out = pq.read_table(result.dest)
    assert out.column_names == [*frame.columns, "prediction", "proba.0", "proba.1", "proba.2"]
    assert out.num_rows == 1000
    np.testing.assert_array_equal(out["prediction"].to_numpy(), raw.predict(frame))
    np.testing.assert_array_equal(out["prediction"].to_numpy(), model.predict(frame))
    proba = np.column_stack([out[f"proba.{i}"].to_numpy() for i in range(3)])
    np.testing.assert_allclose(proba, raw.predict_proba(frame))
    pd.testing.assert_frame_equal(out.select(list(frame.columns)).to_pandas(), frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]


def test_chunks_are_logged_as_requests_of_a_deployment(registered, tmp_path):
    model, _ = registered
    source = write_parquet(iris_frame(250), tmp_path / "in.parquet")
    root = tmp_path / "log"
    with InferenceLogWriter(root) as writer:
        result = predict_file(model, source, tmp_path / "out.parquet", chunk_rows=100,
                              log=writer, deployment="iris-batch", model_name="iris", version=1,
                              progress=False)
    assert writer.written == 250
    requests = InferenceLog(root).query(
        "iris-batch",
        "SELECT request_id, count(*) AS n, max(row) AS last_row, any_value(version) AS v, "
        "any_value(model) AS model FROM predictions GROUP BY request_id ORDER BY request_id",
    )
    assert requests["request_id"].tolist() == [f"{result.batch_id}-{k}" for k in range(3)]
    assert requests["n"].tolist() == [100, 100, 50]
    assert requests["last_row"].tolist() == [99, 99, 49]
    assert set(requests["v"]) == {1} and set(requests["model"]) == {"iris"}
    logged = InferenceLog(root).query(
        "iris-batch", 'SELECT prediction, "proba.2" AS p2 FROM predictions '
                      "ORDER BY request_id, row")
    out = pq.read_table(tmp_path / "out.parquet")
    assert logged["prediction"].tolist() == out["prediction"].to_pylist()
    np.testing.assert_allclose(logged["p2"], out["proba.2"].to_numpy())


def test_csv_input_streams_and_reads_types_from_the_signature(packaged, tmp_path):
    model, raw = packaged
    frame = iris_frame(500)
    frame["petal width (cm)"] = frame["petal width (cm)"].round().astype(int)  # looks like ints
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    result = predict_file(model, source, tmp_path / "out.parquet", chunk_rows=64, progress=False)
    assert (result.rows, result.chunks) == (500, 8)
    out = pq.read_table(result.dest)
    assert out.schema.field("petal width (cm)").type == pa.float64()  # as the signature says
    expected = raw.predict(frame.astype(float))
    np.testing.assert_array_equal(out["prediction"].to_numpy(), expected)


def test_compressed_csv(packaged, tmp_path):
    model, raw = packaged
    frame = iris_frame(120)
    source = tmp_path / "in.csv.gz"
    frame.to_csv(source, index=False, compression="gzip")
    result = predict_file(model, source, tmp_path / "out.parquet", chunk_rows=50, progress=False)
    assert result.rows == 120
    np.testing.assert_array_equal(pq.read_table(result.dest)["prediction"].to_numpy(),
                                  raw.predict(frame))


def test_a_wrong_column_fails_before_anything_is_written(packaged, tmp_path):
    model, _ = packaged
    frame = iris_frame(100).rename(columns={"petal width (cm)": "petal_width"})
    source = write_parquet(frame, tmp_path / "in.parquet")
    dest = tmp_path / "out.parquet"
    with pytest.raises(InvalidArgument, match=r"missing column 'petal width \(cm\)'.*petal_width"):
        predict_file(model, source, dest, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_an_error_in_a_later_chunk_leaves_no_partial_output(packaged, tmp_path):
    model, _ = packaged
    frame = iris_frame(400)
    frame.loc[350, "sepal width (cm)"] = np.nan  # the model refuses NaN, in the 4th chunk
    source = write_parquet(frame, tmp_path / "in.parquet")
    dest = tmp_path / "out.parquet"
    dest.write_bytes(b"the previous output")
    with pytest.raises(ModelFailed, match=r"failed on chunk 3 of .*in.parquet: ValueError: .*NaN"):
        predict_file(model, source, dest, chunk_rows=100, progress=False)
    assert dest.read_bytes() == b"the previous output"  # replaced only by a complete file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]


def test_passthrough_columns_reach_the_output_but_not_the_model(packaged, tmp_path):
    model, raw = packaged
    frame = iris_frame(100)
    source = write_parquet(frame.assign(customer=[f"c{i}" for i in range(100)]),
                           tmp_path / "in.parquet")
    with pytest.raises(InvalidArgument, match="has column.s. 'customer' that the model does not ta"
                       ) as refused:
        predict_file(model, source, tmp_path / "out.parquet", progress=False)
    assert "--passthrough customer" in refused.value.hint
    assert not (tmp_path / "out.parquet").exists()
    result = predict_file(model, source, tmp_path / "out.parquet", passthrough=["customer"],
                          progress=False)
    out = pq.read_table(result.dest)
    assert out["customer"].to_pylist()[:2] == ["c0", "c1"]
    np.testing.assert_array_equal(out["prediction"].to_numpy(), raw.predict(frame))
    with pytest.raises(InvalidArgument, match="no column 'id' to pass through"):
        predict_file(model, source, tmp_path / "out.parquet", passthrough=["id"], progress=False)


def test_refusals(packaged, tmp_path):
    model, _ = packaged
    frame = iris_frame(10)
    with pytest.raises(NotFound, match="no input file"):
        predict_file(model, tmp_path / "missing.parquet", tmp_path / "out.parquet")
    odd = tmp_path / "in.txt"
    odd.write_text("hello")
    with pytest.raises(InvalidArgument, match="cannot tell the format"):
        predict_file(model, odd, tmp_path / "out.parquet")
    scored = write_parquet(frame.assign(prediction=1), tmp_path / "scored.parquet")
    with pytest.raises(InvalidArgument, match="already has column 'prediction'"):
        predict_file(model, scored, tmp_path / "out.parquet", progress=False)
    source = write_parquet(frame, tmp_path / "in.parquet")
    with pytest.raises(InvalidArgument, match="needs a deployment name"):
        predict_file(model, source, tmp_path / "out.parquet", log=InferenceLogWriter(tmp_path))
    with pytest.raises(InvalidArgument, match="chunk_rows"):
        predict_file(model, source, tmp_path / "out.parquet", chunk_rows=0)
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b\n1,2\n3\n")
    with pytest.raises(InvalidArgument, match="broken.csv"):
        predict_file(model, broken, tmp_path / "out.parquet", progress=False)
    assert not (tmp_path / "out.parquet").exists()


def test_an_empty_file_gives_an_empty_output(packaged, tmp_path):
    model, _ = packaged
    source = write_parquet(iris_frame(10).head(0), tmp_path / "in.parquet")
    result = predict_file(model, source, tmp_path / "out.parquet", progress=False)
    assert (result.rows, result.chunks) == (0, 0)
    assert "prediction" in pq.read_table(result.dest).column_names

