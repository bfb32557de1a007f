"""The inference log a team can use: hourly files instead of one per second, retention, and
one shared store (S3) that replicas write to and a laptop reads from."""

import datetime as dt
import json
import subprocess
import sys
import threading

import numpy as np
import pyarrow.parquet as pq
import pytest

from gannet.core.clock import now_ms
from gannet.serving.log import InferenceLog, InferenceLogWriter, LoggedPrediction
from gannet.serving.log.compaction import COVERS, DEFAULT_KEEP_MS, HOUR_MS
from gannet.serving.log.schema import segment_name
from gannet.serving.log.types import Matrix

HOUR0 = 1_717_236_000_000  # 2024-06-01T10:00:00Z
NAMES = ("a", "b")


def logged(request_id, at_ms, deployment="churn"):
    return LoggedPrediction(deployment=deployment, model="churn", version=1,
                            request_id=request_id, timestamp_ms=at_ms,
                            inputs=Matrix(NAMES, np.array([[1.0, 2.0]])),
                            outputs=np.array([1]), latency_ms=1.0)


def write_segments(log: InferenceLog, hours: int, per_hour: int, start: int = 0) -> int:
    """``per_hour`` segment files (one request each) in each of ``hours`` hours from HOUR0,
    named as the writer names them at that time; how many requests in all."""
    storage = log.storage
    from gannet.serving.log.rows import predictions_tables

    n = start
    for hour in range(hours):
        for i in range(per_hour):
            at = HOUR0 + hour * HOUR_MS + i * 1000
            table = predictions_tables([logged(f"r{n}", at)], None)[0]
            storage.write_table("deployment=churn/version=1/date=2024-06-01",
                                segment_name(at), table)
            n += 1
    return n - start


def request_ids(log: InferenceLog) -> list[str]:
    return log.query("churn", "SELECT request_id FROM predictions")["request_id"].tolist()


def folder_files(log: InferenceLog) -> list[str]:
    return log.storage.files("deployment=churn/version=1/date=2024-06-01")


def test_finished_hours_become_one_file_each_and_no_row_is_seen_twice_or_lost(tmp_path):
    log = InferenceLog(tmp_path / "log")
    total = write_segments(log, hours=3, per_hour=40)
    expected = sorted(request_ids(log))
    assert len(expected) == total == 120 and len(folder_files(log)) == 120

    # at 12:03 hour 10 and 11 are over, but within 5 minutes of its end hour 11 waits
    now = HOUR0 + 2 * HOUR_MS + 3 * 60_000
    report = log.compact(at_ms=now)
    assert report.merged == 1 and report.rows == 40 and report.deleted == 0
    assert sorted(request_ids(log)) == expected  # the merged file replaces its parts at once

    later = HOUR0 + 3 * HOUR_MS + 10 * 60_000  # 13:10: hour 12 is over too
    log.compact(at_ms=later)
    assert sorted(request_ids(log)) == expected
    # hour 10's parts are gone (their merge is over 10 minutes old); the others stay until
    # readers that listed them before their merge are done with them
    assert len(folder_files(log)) == 3 + 80

    report = log.compact(at_ms=later + DEFAULT_KEEP_MS)
    files = folder_files(log)
    assert len(files) == 3 and all(f.startswith("hour-2024060110") or f.startswith(
        "hour-2024060111") or f.startswith("hour-2024060112") for f in files)
    assert report.deleted == 80
    assert sorted(request_ids(log)) == expected
    held = json.loads(pq.read_metadata(log.storage.path(
        f"deployment=churn/version=1/date=2024-06-01/{files[0]}")).metadata[COVERS])
    assert len(held) == 40


def test_a_late_file_is_merged_with_the_hour_it_belongs_to(tmp_path):
    log = InferenceLog(tmp_path / "log")
    write_segments(log, hours=1, per_hour=10)
    after = HOUR0 + HOUR_MS + 10 * 60_000
    log.compact(at_ms=after)
    log.compact(at_ms=after + DEFAULT_KEEP_MS)
    assert len(folder_files(log)) == 1
    write_segments(log, hours=1, per_hour=1, start=10)  # a replica that flushed late
    assert sorted(request_ids(log)) == sorted(f"r{i}" for i in range(11))
    log.compact(at_ms=after + 2 * DEFAULT_KEEP_MS)
    log.compact(at_ms=after + 4 * DEFAULT_KEEP_MS)
    assert len(folder_files(log)) == 1
    assert sorted(request_ids(log)) == sorted(f"r{i}" for i in range(11))


def test_of_two_rival_merges_of_one_hour_the_larger_one_counts(tmp_path):
    log = InferenceLog(tmp_path / "log")
    write_segments(log, hours=1, per_hour=6)
    folder = "deployment=churn/version=1/date=2024-06-01"
    parts = folder_files(log)
    # two replicas merged at once, one of them before the last part had arrived
    for name, held in (("hour-2024060110-1717239900000-aaaa.parquet", parts[:5]),
                       ("hour-2024060110-1717239900001-bbbb.parquet", parts)):
        table = pq.read_table([log.storage.path(f"{folder}/{p}") for p in held])
        log.storage.write_table(folder, name, table,
                                metadata={COVERS: json.dumps(held).encode()})
    assert sorted(request_ids(log)) == sorted(f"r{i}" for i in range(6))
    log.compact(at_ms=HOUR0 + 3 * HOUR_MS)
    assert folder_files(log) == ["hour-2024060110-1717239900001-bbbb.parquet"]
    assert sorted(request_ids(log)) == sorted(f"r{i}" for i in range(6))


def test_readers_count_every_row_once_while_compactions_run(tmp_path):
    log = InferenceLog(tmp_path / "log")
    total = write_segments(log, hours=4, per_hour=25)
    failures: list[str] = []
    done = threading.Event()

    def read() -> None:
        reader = InferenceLog(tmp_path / "log")
        while not done.is_set():
            count = reader.query("churn", "SELECT count(*) AS n FROM predictions")["n"][0]
            if count != total:
                failures.append(f"saw {count} rows, not {total}")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        at = HOUR0 + 4 * HOUR_MS + 6 * 60_000
        for step in range(6):
            log.compact(at_ms=at + step * DEFAULT_KEEP_MS // 2)
    finally:
        done.set()
        for thread in readers:
            thread.join()
    assert failures == []
    assert len(folder_files(log)) == 4


def gannet(home, *args, env=None):
    """``gannet --home HOME ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "gannet", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", **(env or {})})


def test_retention_drops_old_dates_through_the_cli(tmp_path):
    home = tmp_path / "home"
    writer = InferenceLogWriter(home / "inference-log")
    today = dt.datetime.now(dt.UTC)
    for days in (0, 1, 5, 40):
        at = int((today - dt.timedelta(days=days)).timestamp() * 1000)
        writer.log(logged(f"d{days}", at))
    writer.close()
    done = gannet(home, "logs", "compact", "churn", "--retention", "3d", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["expired"] == 2 and report["folders"] == 4
    done = gannet(home, "logs", "query", "churn", "SELECT request_id FROM predictions", "--json")
    assert sorted(r["request_id"] for r in json.loads(done.stdout)) == ["d0", "d1"]
    bad = gannet(home, "logs", "compact", "--retention", "soon")
    assert bad.returncode == 3  # invalid argument (docs/errors.md)
    assert "cannot read 'soon' as a duration" in bad.stderr + bad.stdout


@pytest.mark.slow
def test_replicas_write_one_shared_log_on_s3_and_a_laptop_reads_it(s3_endpoint, tmp_path):
    url = s3_endpoint.url()  # a prefix of its own
    options = s3_endpoint.storage_options
    replicas = [InferenceLogWriter(url, storage_options=options) for _ in range(2)]
    for i in range(60):
        replicas[i % 2].log(logged(f"r{i}", HOUR0 + i * 60_000))  # one an hour... a minute
    for writer in replicas:
        writer.close()
        assert writer.failed == 0 and writer.written == 30

    laptop = InferenceLog(url, storage_options=options, cache=tmp_path / "cache")
    assert sorted(request_ids(laptop)) == sorted(f"r{i}" for i in range(60))
    later = now_ms() + 2 * HOUR_MS  # files are named by when they were written: now
    report = laptop.compact(at_ms=later)
    assert report.merged == 1
    laptop.compact(at_ms=later + DEFAULT_KEEP_MS)
    assert len(folder_files(laptop)) == 1
    assert sorted(request_ids(laptop)) == sorted(f"r{i}" for i in range(60))
    cached = list((tmp_path / "cache").rglob("*.parquet"))
    assert len(cached) == 1  # copies of merged-away files are dropped from the cache

    # and `gannet logs query` from another machine, configured only by settings
    env = {"GANNET_INFERENCE_LOG_URL": url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": s3_endpoint.endpoint_url,
           "AWS_DEFAULT_REGION": "us-east-1"}
    done = gannet(tmp_path / "laptop", "logs", "query", "churn",
                  "SELECT count(*) AS n FROM predictions", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"n": 60}]
