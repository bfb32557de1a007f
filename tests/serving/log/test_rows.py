"""The log's rows from what the inference server hands over (a number Matrix, column lists),
stacked in bulk: the same rows as one request at a time, and odd requests still found."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from gannet.serving.log import InferenceLog, InferenceLogWriter, LoggedPrediction
from gannet.serving.log.types import Matrix

NOW_MS = 1_717_243_200_000  # 2024-06-01T12:00:00Z
NAMES = ("age", "income")


def logged(request_id, inputs, outputs, proba=None, **extra):
    return LoggedPrediction(
        deployment="churn", model="churn", version=1, request_id=request_id,
        timestamp_ms=NOW_MS, inputs=inputs, outputs=outputs, latency_ms=1.5,
        probabilities=proba, extra=extra)


def written(root, items):
    writer = InferenceLogWriter(root, compression=None)
    for item in items:
        writer.log(item)
    writer.close()
    return writer, InferenceLog(root).query(
        "churn", "SELECT * EXCLUDE (deployment, version, date) FROM predictions "
                 "ORDER BY request_id, row")


def test_matrices_give_the_rows_dataframes_give(tmp_path):
    rng = np.random.default_rng(0)
    values = [rng.random((n, 2)) for n in (1, 3, 1, 2)]
    outputs = [rng.integers(0, 2, len(v)) for v in values]
    proba = [rng.random((len(v), 2)) for v in values]
    _, fast = written(tmp_path / "fast", [
        logged(f"r{i}", Matrix(NAMES, v), o, p)
        for i, (v, o, p) in enumerate(zip(values, outputs, proba, strict=True))])
    _, slow = written(tmp_path / "slow", [
        logged(f"r{i}", pd.DataFrame(v, columns=list(NAMES)), o, p)
        for i, (v, o, p) in enumerate(zip(values, outputs, proba, strict=True))])

    assert len(fast) == 7
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["row"].tolist() == [0, 0, 1, 2, 0, 0, 1]
    assert fast["input.income"].tolist() == pytest.approx(
        np.concatenate(values)[:, 1].tolist())
    assert fast["proba.1"].tolist() == pytest.approx(np.concatenate(proba)[:, 1].tolist())


def test_column_lists_keep_their_types_and_mixed_columns_become_text(tmp_path):
    items = [logged("r0", {"age": [31, 47], "plan": ["basic", "pro"]}, np.array([0, 1])),
             logged("r1", {"age": [52], "plan": ["pro"]}, np.array([1]))]
    _, rows = written(tmp_path / "typed", items)
    assert rows["input.age"].tolist() == [31, 47, 52]
    assert str(rows["input.age"].dtype) == "int64"
    assert rows["input.plan"].tolist() == ["basic", "pro", "pro"]

    mixed = [logged("r0", {"code": [1]}, np.array([0])), logged("r1", {"code": ["A7"]},
                                                              np.array([1]))]
    writer, rows = written(tmp_path / "mixed", mixed)
    assert writer.failed == 0
    assert sorted(map(str, rows["input.code"])) == ["1", "A7"]


def test_an_odd_request_among_many_is_reported_and_the_others_are_written(tmp_path, caplog):
    items = [logged(f"r{i}", Matrix(NAMES, np.ones((1, 2))), np.array([i])) for i in range(50)]
    items[17] = logged("r17", Matrix(NAMES, np.ones((2, 2))), np.array([17]))  # 2 rows, 1 answer
    writer, rows = written(tmp_path / "log", items)
    assert writer.failed == 1
    assert "r17" in (writer.last_error or "")
    assert writer.written == 49
    assert "r17" not in set(rows["request_id"])
    assert sorted(rows["prediction"]) == [i for i in range(50) if i != 17]


def test_masked_and_hashed_matrix_and_list_columns_hide_their_values(tmp_path):
    root = tmp_path / "log"
    items = [logged("r0", Matrix(NAMES, np.array([[31.0, 52_000.0]])), np.array([1]),
                    masked=["income"]),
             logged("r1", {"email": ["a@example.com"], "age": [40]}, np.array([0]),
                    hashed=("email",))]
    writer, rows = written(root, items)
    assert writer.failed == 0
    by_id = rows.set_index("request_id")
    assert by_id.loc["r0", "input.income"] == "***"
    assert by_id.loc["r0", "input.age"] == 31.0
    assert by_id.loc["r1", "input.email"] == InferenceLog(root).hash("a@example.com")
    for path in root.rglob("*.parquet"):
        table = pq.read_table(path)
        assert b"a@example.com" not in path.read_bytes(), table
        assert b"52000" not in path.read_bytes()
