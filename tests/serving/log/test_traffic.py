"""``InferenceLog.traffic``: requests (not rows) per bucket and version, latency
percentiles, and a shadow version's agreement with the primary, on real Parquet files
read with real DuckDB."""

import numpy as np
import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument, NotFound
from gannet.serving.log import InferenceLog, InferenceLogWriter, LoggedPrediction

MINUTE = 60_000
T0 = 1_717_243_200_000  # 2024-06-01T12:00:00Z, a minute's start


def request(i: int, at: int, version: int, latency: float, outputs, shadow=False):
    return LoggedPrediction(
        deployment="churn", model="churn", version=version, request_id=f"r{i}",
        timestamp_ms=at, inputs=pd.DataFrame({"age": [30, 40]}), outputs=np.array(outputs),
        latency_ms=latency, shadow=shadow)


@pytest.fixture
def log(tmp_path) -> InferenceLog:
    writer = InferenceLogWriter(tmp_path / "log")
    for i in range(4):  # minute 0: four requests of two rows each, latencies 1..4 ms
        writer.log(request(i, T0 + i * 1000, 1, float(i + 1), [0, 1]))
        # the shadow answers the same rows: equal on both rows of r0 and r1, one of r2, r3
        writer.log(request(i, T0 + i * 1000, 2, 10.0, [0, 1] if i < 2 else [0, 0],
                           shadow=True))
    writer.log(request(9, T0 + MINUTE + 5, 1, 8.0, [1, 1]))  # minute 1: one request
    writer.close()
    return InferenceLog(tmp_path / "log")


def test_requests_and_latency_per_minute_by_version(log):
    found = log.traffic("churn", T0)
    rows = {(b["bucket"], b["version"], b["shadow"]): b for b in found["buckets"]}
    assert sorted(rows) == [(T0, "1", False), (T0, "2", True), (T0 + MINUTE, "1", False)]
    first = rows[(T0, "1", False)]
    assert first["requests"] == 4  # requests, not their 8 rows
    assert first["p50"] == pytest.approx(2.5) and first["p99"] == pytest.approx(3.97)
    assert rows[(T0 + MINUTE, "1", False)]["requests"] == 1
    five = log.traffic("churn", T0, bucket_ms=5 * MINUTE)["buckets"]
    assert [(b["version"], b["requests"]) for b in five] == [("1", 5), ("2", 4)]


def test_shadow_agreement_counts_equal_rows(log):
    assert log.traffic("churn", T0)["shadows"] == [
        {"shadow_version": "2", "version": "1", "compared": 8, "agreed": 6}]


def test_the_window_start_leaves_older_requests_out(log):
    found = log.traffic("churn", T0 + MINUTE)
    assert [(b["version"], b["requests"]) for b in found["buckets"]] == [("1", 1)]
    assert found["shadows"] == []


def test_what_cannot_be_answered(log):
    with pytest.raises(InvalidArgument, match="too short"):
        log.traffic("churn", T0, bucket_ms=10)
    with pytest.raises(NotFound, match="no predictions logged for deployment 'other'"):
        log.traffic("other", T0)
