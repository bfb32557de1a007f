"""The inference log on real Parquet files, read back with pyarrow and real DuckDB."""

import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import blake3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from waiting import wait_until

from gannet.core.errors import InvalidArgument, NotFound, Unavailable
from gannet.serving.log import InferenceLog, InferenceLogWriter, LoggedPrediction

NOW_MS = 1_717_243_200_000  # 2024-06-01T12:00:00Z


def prediction(request_id="r1", inputs=None, outputs=None, *, deployment="churn", version=1,
               timestamp_ms=NOW_MS, **kwargs):
    if inputs is None:
        inputs = pd.DataFrame({"age": [31, 47], "plan": ["basic", "pro"]})
    if outputs is None:
        outputs = np.arange(len(inputs))
    return LoggedPrediction(
        deployment=deployment, model="churn", version=version, request_id=request_id,
        timestamp_ms=timestamp_ms, inputs=inputs, outputs=outputs, latency_ms=2.5, **kwargs
    )


def parquet_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.parquet") if "feedback" not in p.parts)


def test_rows_columns_types_and_partition_paths(tmp_path):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root)
    assert not root.exists()  # the constructor does no I/O
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    writer.log(prediction("r1", probabilities=proba))
    writer.log(prediction("r2", np.array([[1.5, 2.5, 3.5]]), np.array(["yes"]), version=2,
                          shadow=True))
    writer.close()
    assert (writer.written, writer.failed, writer.dropped) == (3, 0, 0)

    first, second = parquet_files(root)
    pattern = r"deployment=churn/version=(1|2)/date=2024-06-01/part-\d{13}-[0-9a-f]{32}\.parquet"
    assert re.fullmatch(pattern, first.relative_to(root).as_posix())
    assert re.fullmatch(pattern, second.relative_to(root).as_posix())
    table = pq.read_table(first)
    assert table.schema.names == [
        "request_id", "row", "timestamp", "model", "latency_ms", "shadow",
        "input.age", "input.plan", "prediction", "proba.0", "proba.1",
    ]
    assert table.schema.field("row").type == pa.int32()
    assert table.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("latency_ms").type == pa.float64()
    assert table.schema.field("shadow").type == pa.bool_()
    rows = table.to_pylist()
    assert [(r["request_id"], r["row"], r["input.plan"], r["prediction"]) for r in rows] == [
        ("r1", 0, "basic", 0), ("r1", 1, "pro", 1)]
    assert rows[0]["proba.0"] == 0.9
    assert rows[0]["timestamp"].timestamp() * 1000 == NOW_MS
    tensor = pq.read_table(second).to_pylist()
    assert tensor == [{
        "request_id": "r2", "row": 0, "timestamp": tensor[0]["timestamp"], "model": "churn",
        "latency_ms": 2.5, "shadow": True, "input.0": 1.5, "input.1": 2.5, "input.2": 3.5,
        "prediction": "yes",
    }]


def test_tensor_inputs_and_multi_column_outputs_become_list_columns(tmp_path):
    root = tmp_path / "log"
    with InferenceLogWriter(root) as writer:
        inputs = {"image": np.arange(8.0).reshape(2, 2, 2), "size": np.array([3, 4])}
        writer.log(prediction("t1", inputs, np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])))
        writer.log(prediction("t2", np.array([["a", "b"]], dtype=object),
                              pd.DataFrame({"low": [1.0], "high": [2.0]})))
    (path,) = parquet_files(root)  # two layouts, one file: their columns do not clash
    table = pq.read_table(path)
    assert table.schema.field("input.image").type == pa.list_(pa.float64())
    tensor, text = table.to_pylist()[:2], table.to_pylist()[2]
    assert tensor[1]["input.image"] == [4.0, 5.0, 6.0, 7.0]
    assert [r["input.size"] for r in tensor] == [3, 4]
    assert tensor[0]["prediction"] == [0.1, 0.2, 0.7]
    assert text["request_id"] == "t2" and text["input.image"] is None
    assert (text["input.0"], text["input.1"]) == ("a", "b")
    assert (text["prediction.low"], text["prediction.high"]) == (1.0, 2.0)


def test_one_file_per_partition_per_flush_and_differing_schemas_union(tmp_path):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, flush_interval=60)
    writer.log(prediction("a"))
    writer.log(prediction("b", timestamp_ms=NOW_MS + 86_400_000))  # the next day
    writer.log(prediction("c"))
    assert writer.flush(timeout=30)
    assert len(parquet_files(root)) == 2  # two dates
    writer.log(prediction("d", pd.DataFrame({"age": [50], "region": ["eu"]}), ["churns"]))
    writer.close()
    assert len(parquet_files(root)) == 3
    found = InferenceLog(root).query(
        "churn",
        "SELECT request_id, row, region, prediction, date::VARCHAR AS day, version "
        "FROM (SELECT *, \"input.region\" AS region FROM predictions) ORDER BY request_id, row",
    )
    assert found["request_id"].tolist() == ["a", "a", "b", "b", "c", "c", "d"]
    assert pd.isna(found["region"].iloc[-2]) and found["region"].iloc[-1] == "eu"
    assert found["prediction"].tolist()[-1] == "churns"
    assert found["day"].tolist()[2] == "2024-06-02"
    assert set(found["version"]) == {1}


def test_rows_reach_disk_on_the_next_beat_even_after_an_explicit_flush(tmp_path):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, flush_interval=0.3)
    writer.log(prediction("a"))
    assert writer.flush(timeout=10)
    writer.log(prediction("b"))  # no flush, no close: the writer's own beat writes it
    wait_until(lambda: writer.written == 4, timeout=30, what="b reaching disk")
    assert parquet_files(root) and writer.pending == 0
    writer.close()
    assert writer.written == 4


def test_many_threads_logging_then_close_every_row_exactly_once(tmp_path):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, flush_interval=0.02)
    threads, per_thread = 8, 300

    def work(t: int) -> None:
        for i in range(per_thread):
            n = 1 + i % 3
            frame = pd.DataFrame({"x": np.full(n, float(i)), "t": np.full(n, t)})
            writer.log(prediction(f"{t}-{i}", frame, np.zeros(n)))

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writer.close()
    expected = threads * sum(1 + i % 3 for i in range(per_thread))
    assert (writer.written, writer.dropped, writer.failed) == (expected, 0, 0)
    counts = InferenceLog(root).query(
        "churn",
        "SELECT count(*) AS n, count(DISTINCT (request_id, row)) AS distinct_rows, "
        "count(DISTINCT request_id) AS requests FROM predictions",
    ).iloc[0]
    assert (counts["n"], counts["distinct_rows"]) == (expected, expected)
    assert counts["requests"] == threads * per_thread
    assert len(parquet_files(root)) > 1


def test_a_full_queue_drops_and_counts_the_new_predictions(tmp_path):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, flush_interval=60, max_queue=3)
    for i in range(5):
        writer.log(prediction(f"r{i}"))
    assert (writer.pending, writer.dropped) == (3, 2)
    writer.close()
    writer.log(prediction("late"))  # after close: dropped too, never an error
    assert writer.dropped == 3
    ids = InferenceLog(root).query("churn", "SELECT DISTINCT request_id FROM predictions")
    assert sorted(ids["request_id"]) == ["r0", "r1", "r2"]  # the oldest were kept


def test_log_only_queues_and_never_raises(tmp_path):
    """``log()`` does no I/O: what it queued is on disk only after the writer's beat (an
    hour away here) or ``close()``. What it costs per call is bench/inference_log.py's."""
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, flush_interval=3600, max_queue=1_000_000)
    p = prediction()
    calls = 20_000
    for _ in range(calls):
        writer.log(p)
    assert (writer.pending, writer.written, writer.dropped) == (calls, 0, 0)
    assert parquet_files(root) == []
    writer.close()
    assert writer.written == 2 * calls


def test_bad_predictions_are_counted_and_the_writer_goes_on(tmp_path, caplog):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, flush_interval=60)
    writer.log(prediction("short", outputs=np.array([1])))  # 2 input rows, 1 output
    writer.log(prediction("bad name", deployment="../escape"))
    writer.log(prediction("fine"))
    writer.close()
    assert (writer.failed, writer.written) == (2, 2)
    assert "prediction has 1 rows, the input has 2" in caplog.text
    assert not (tmp_path / "escape").exists()
    assert InferenceLog(root).deployments() == ["churn"]


@pytest.mark.parametrize(("flush_interval", "rows_per_log"), [(0.1, 200), (1.0, 20)])
def test_a_killed_writer_leaves_only_complete_files_and_loses_only_the_last_moments(
    tmp_path, flush_interval, rows_per_log
):
    root = tmp_path / "log"
    child = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import pandas  # loaded, as in a server
        from gannet.serving.log import InferenceLogWriter, LoggedPrediction

        writer = InferenceLogWriter(sys.argv[1], flush_interval={flush_interval})
        start_ms = int(time.time() * 1000)
        features = np.random.default_rng(0).random(({rows_per_log}, 3))
        i = 0
        while True:
            logged_at = np.full({rows_per_log}, time.time())
            writer.log(LoggedPrediction(
                "killed", "m", 1, f"{{i:09d}}", start_ms,
                np.column_stack([features, logged_at]), np.zeros({rows_per_log}), 1.0))
            if i == 0:
                print("logging", flush=True)
            i += 1
            time.sleep(0.001)
    """)
    with subprocess.Popen(
        [sys.executable, "-c", child, str(root)], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout.readline().strip() == "logging"
            wait_until(lambda: len(parquet_files(root)) >= 2, timeout=60,
                       what="two flushes of the writer")  # it runs its steady beat
            killed_at = time.time()
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()

    files = parquet_files(root)
    assert files, "nothing was written before the kill"
    tables = [pq.read_table(f) for f in files]  # every visible file is whole
    logged = pa.concat_tables(tables).to_pandas()
    requests = sorted({int(r) for r in logged["request_id"]})
    assert requests == list(range(len(requests)))  # a prefix of what was logged
    assert logged.groupby("request_id").size().eq(rows_per_log).all()
    # lost: what was logged since the last beat (one interval; a generous margin for a
    # busy machine), never what an earlier beat wrote
    assert logged["input.3"].max() >= killed_at - flush_interval - 1.0
    leftovers = [p.name for p in root.rglob("*") if p.is_file() and p.suffix != ".parquet"]
    assert all(name.startswith(".part-") and name.endswith(".tmp") for name in leftovers)
    total = InferenceLog(root).query("killed", "SELECT count(*) AS n FROM predictions")
    assert total["n"][0] == len(logged)  # readers skip half-written temporary files


def test_masked_and_hashed_columns_never_store_the_raw_values(tmp_path):
    root = tmp_path / "log"
    secret_emails = ["alice@example.com", "bob@example.com", "alice@example.com"]
    secret_ssns = ["123-45-6789", "987-65-4321", "123-45-6789"]
    inputs = pd.DataFrame({"email": secret_emails, "ssn": secret_ssns, "age": [30, 40, 30]})
    hide = {"masked": ("email",), "hashed": ("ssn",)}
    writer = InferenceLogWriter(root, compression=None)  # so the byte scan below sees all
    writer.log(prediction("r1", inputs, np.zeros(3), extra=hide))
    writer.close()
    restarted = InferenceLogWriter(root, compression=None)  # the same salt after a restart
    restarted.log(prediction("r2", inputs.head(1), np.zeros(1), extra=hide))
    restarted.close()

    salt_file = root / ".salt"
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert len(salt_file.read_bytes()) == 32
    for path in parquet_files(root):
        data = path.read_bytes()
        for secret in {*secret_emails, *secret_ssns}:
            assert secret.encode() not in data, f"{secret} is readable in {path}"
    log = InferenceLog(root)
    rows = log.query("churn", 'SELECT request_id, "input.email" AS email, "input.ssn" AS ssn, '
                              '"input.age" AS age FROM predictions ORDER BY request_id, row')
    assert set(rows["email"]) == {"***"}
    hashes = rows["ssn"].tolist()
    assert hashes[0] == hashes[2] == hashes[3] != hashes[1]  # equal values hash equally
    assert re.fullmatch(r"[0-9a-f]{64}", hashes[0])
    assert hashes[0] == log.hash("123-45-6789")
    assert hashes[0] == blake3.blake3(salt_file.read_bytes() + b"123-45-6789").hexdigest()
    assert hashes[0] != blake3.blake3(b"123-45-6789").hexdigest()
    assert rows["age"].tolist() == [30, 40, 30, 30]  # other columns as they were


def test_a_given_salt_is_used_and_nothing_is_persisted(tmp_path):
    root = tmp_path / "log"
    writer = InferenceLogWriter(root, salt=b"pepper")
    inputs = np.array([[1.0, 7.0]])
    writer.log(prediction("r1", inputs, [1], extra={"hashed": ("input.1",), "masked": ["0"]}))
    writer.close()
    assert not (root / ".salt").exists()
    row = pq.read_table(parquet_files(root)[0]).to_pylist()[0]
    assert row["input.0"] == "***"
    assert row["input.1"] == blake3.blake3(b"pepper" + b"7.0").hexdigest()


def test_feedback_joins_by_request_id_whole_requests_and_single_rows(tmp_path):
    root = tmp_path / "log"
    with InferenceLogWriter(root) as writer:
        writer.log(prediction("r1", outputs=np.array([1, 0])))
        writer.log(prediction("r2", outputs=np.array([1, 1])))
        writer.log(prediction("r3", outputs=np.array([0, 0])))
    log = InferenceLog(root)
    log.feedback("churn", "r1", 1)  # every row of r1
    log.feedback("churn", "r1", 0, row=1)  # ...but row 1 is known to be 0
    log.feedback("churn", "r2", 0, row=0, timestamp=NOW_MS)
    log.feedback("churn", "r2", 1, row=0, timestamp=NOW_MS + 1000)  # a correction wins
    joined = log.query(
        "churn",
        "SELECT request_id, row, prediction, coalesce(label, -1) AS label FROM joined "
        "ORDER BY request_id, row",
    )
    assert [tuple(r) for r in joined.itertuples(index=False)] == [
        ("r1", 0, 1, 1), ("r1", 1, 0, 0), ("r2", 0, 1, 1), ("r2", 1, 1, -1),
        ("r3", 0, 0, -1), ("r3", 1, 0, -1),
    ]
    accuracy = log.query(
        "churn", "SELECT avg((label = prediction)::INT) AS accuracy FROM joined "
                 "WHERE label IS NOT NULL",
    )
    assert accuracy["accuracy"][0] == 1.0
    feedback_files = list((root / "feedback" / "deployment=churn").rglob("*.parquet"))
    assert len(feedback_files) == 4
    assert log.query("churn", "SELECT count(*) AS n FROM feedback")["n"][0] == 4


def test_feedback_many_and_bad_feedback(tmp_path):
    log = InferenceLog(tmp_path / "log")
    assert log.feedback_many("churn", [{"request_id": f"r{i}", "label": "yes"}
                                       for i in range(3)]) == 3
    assert len(list((tmp_path / "log" / "feedback").rglob("*.parquet"))) == 1
    with pytest.raises(InvalidArgument, match="request id"):
        log.feedback("churn", "", 1)
    with pytest.raises(InvalidArgument, match="no label"):
        log.feedback("churn", "r1", None)
    with pytest.raises(InvalidArgument, match="row index"):
        log.feedback("churn", "r1", 1, row=-1)
    with pytest.raises(InvalidArgument, match="not a valid deployment name"):
        log.feedback("../x", "r1", 1)


def test_queries_without_feedback_and_their_errors(tmp_path):
    root = tmp_path / "log"
    log = InferenceLog(root)
    with pytest.raises(NotFound, match=r"no predictions logged for deployment 'churn' yet "
                                       r"\(looked in .*deployment=churn\)"):
        log.query("churn", "SELECT 1")
    with InferenceLogWriter(root) as writer:
        writer.log(prediction("r1"))
    labels = log.query("churn", "SELECT request_id, label FROM joined")
    assert labels["label"].isna().all()
    with pytest.raises(NotFound, match="deployments with logged predictions: churn"):
        log.query("other", "SELECT 1")
    with pytest.raises(InvalidArgument, match="the query failed: .*nope"):
        log.query("churn", "SELECT nope FROM predictions")
    with pytest.raises(InvalidArgument, match="the query failed"):
        log.query("churn", "SELEC 1")
    with pytest.raises(InvalidArgument, match="empty"):
        log.query("churn", "  ")
    assert len(log.query("churn", "SELECT * FROM predictions", limit=1)) == 1
    latest = log.show("churn", 1)
    assert (latest["request_id"][0], latest["deployment"][0]) == ("r1", "churn")


def test_the_writer_queues_labels_and_says_when_it_cannot(tmp_path):
    """The server's path for feedback: queued, one file per flush, refused (never
    dropped unsaid) when the queue is full or the writer closed."""
    writer = InferenceLogWriter(tmp_path, flush_interval=3600, max_queue=2)
    writer.feedback("churn", "r1", 1)
    writer.feedback("churn", "r2", "no", row=3)
    with pytest.raises(InvalidArgument, match="row index"):
        writer.feedback("churn", "r3", 1, row=-1)
    with pytest.raises(Unavailable, match="behind"):
        writer.feedback("churn", "r3", 1)
    assert writer.pending == 2 and not list(tmp_path.rglob("*.parquet"))
    assert writer.flush(timeout=30)
    assert writer.labelled == 2 and writer.failed == 0
    assert len(list((tmp_path / "feedback").rglob("*.parquet"))) == 1
    writer.close()
    with pytest.raises(Unavailable, match="closed"):
        writer.feedback("churn", "r4", 1)
