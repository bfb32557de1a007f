"""The inference log over the team server: SQL queries, the latest rows and feedback, as
``gannet logs`` asks them with GANNET_URI; a caller's SQL reads the log and nothing else."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gannet.bootstrap import build
from gannet.cli.app import app
from gannet.core.errors import InvalidArgument, NotFound, NotSupported
from gannet.serving.log.schema import default_root
from gannet.serving.log.types import LoggedPrediction, Matrix
from gannet.serving.log.writer import InferenceLogWriter

NAMES = ("age", "income")


@pytest.fixture
def logged(services):
    """Three requests of deployment ``churn`` (two rows, then one, then one) in the server's log."""
    writer = InferenceLogWriter(default_root(services.settings))
    for i, rows in enumerate(([[30.0, 1.0], [40.0, 2.0]], [[50.0, 3.0]], [[60.0, 4.0]])):
        writer.log(LoggedPrediction(
            deployment="churn", model="churn", version=1, request_id=f"req-{i}",
            timestamp_ms=1_767_225_600_000 + i * 1000, inputs=Matrix(NAMES, np.array(rows)),
            outputs=np.array([i] * len(rows)), latency_ms=1.5))
    writer.close()
    return services


@pytest.fixture
def remote(open_server, services):
    client = build(services.settings.replace(uri=open_server))
    yield client.inference_log
    client.close()


def test_queries_show_and_feedback_through_the_server(logged, remote):
    assert remote.deployments() == ["churn"]
    frame = remote.query("churn", "SELECT request_id, row, prediction, timestamp "
                                  "FROM predictions ORDER BY request_id, row")
    assert list(frame["request_id"]) == ["req-0", "req-0", "req-1", "req-2"]
    assert str(frame["timestamp"].dt.tz) == "UTC"  # typed columns survive the trip
    local = logged.inference_log.query("churn", "SELECT * FROM predictions ORDER BY request_id")
    pd.testing.assert_frame_equal(
        remote.query("churn", "SELECT * FROM predictions ORDER BY request_id"), local)
    assert list(remote.show("churn", 2)["request_id"]) == ["req-2", "req-1"]

    remote.feedback("churn", "req-0", 1)
    remote.feedback("churn", "req-0", 0, row=1)
    assert remote.feedback_many("churn", [{"request_id": "req-1", "label": 1}]) == 1
    joined = remote.query("churn", "SELECT request_id, row, label FROM joined "
                                   "WHERE label IS NOT NULL ORDER BY request_id, row")
    assert joined.values.tolist() == [["req-0", 0, 1], ["req-0", 1, 0], ["req-1", 0, 1]]
    with pytest.raises(InvalidArgument, match="feedback needs a request id"):
        remote.feedback("churn", "", 1)
    with pytest.raises(NotFound, match="no predictions logged for deployment 'other'"):
        remote.query("other", "SELECT 1")
    with pytest.raises(InvalidArgument, match="the query is empty"):
        remote.query("churn", "  ")
    with pytest.raises(NotSupported, match="compacted by its servers"):
        remote.compact()


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/hostname')",
    "COPY (SELECT 1) TO '/tmp/gannet-escaped.csv'",
    "SET enable_external_access = true",
    "ATTACH '/tmp/gannet-escaped.db'",
    "INSTALL httpfs",
])
def test_a_callers_sql_reads_the_log_and_nothing_else(logged, remote, sql):
    with pytest.raises(InvalidArgument, match="the query failed"):
        remote.query("churn", sql)
    assert len(remote.query("churn", "SELECT * FROM predictions")) == 4  # still works


def test_gannet_logs_with_gannet_uri(logged, open_server, tmp_path):
    runner = CliRunner()
    env = {"GANNET_URI": open_server, "GANNET_HOME": str(tmp_path / "cli-home")}
    done = runner.invoke(app, ["logs", "query", "churn", "SELECT count(*) AS n FROM predictions",
                               "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == [{"n": 4}]
    done = runner.invoke(app, ["logs", "feedback", "churn", "req-2", "1", "--json"], env=env)
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["logs", "show", "churn", "--limit", "1"], env=env)
    assert done.exit_code == 0 and "req-2/0" in done.output
    assert logged.inference_log.query(
        "churn", "SELECT label FROM joined WHERE request_id = 'req-2'").values.tolist() == [[1]]
