"""Materialization on the pipelines' scheduler: a ``features.materialize`` schedule loads
the newest values into the online store each window, incrementally."""

import json
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument
from tests.features.feature_data import stats_frame


@pytest.fixture
def applied(services, definitions_file):
    services.features.apply(definitions_file.read_text().replace("ttl: 2d", "ttl: 0"))
    return services


def test_each_window_materializes_what_is_new(applied, stats_parquet):
    pipelines, features = applied.pipelines, applied.features
    schedule = pipelines.create_schedule("features.materialize", "*/5 * * * *",
                                         {"views": "churn_stats"})
    assert features.online(["churn_stats:orders_30d"], [{"customer_id": 1}]) \
        .to_dict("list")["orders_30d"] == [None]
    start = schedule.created_time - schedule.created_time % 300_000 + 300_000  # next window
    (first,) = pipelines.run_due_schedules(now=start + 1_000)
    assert first.status == "FINISHED" and first.run_id is None
    assert features.online(["churn_stats:orders_30d"], [{"customer_id": 1}]) \
        .to_dict("list")["orders_30d"] == [30]
    assert pipelines.run_due_schedules(now=start + 2_000) == []  # this window fired once

    time.sleep(0.01)
    now = datetime.now(UTC).replace(tzinfo=None)  # after the first materialization's end
    newer = pd.concat([stats_frame(), pd.DataFrame({
        "customer_id": [1], "event_timestamp": [now], "orders_30d": [41],
        "spend_30d": [410.0]})])
    newer["event_timestamp"] = newer["event_timestamp"].astype(
        stats_frame()["event_timestamp"].dtype)  # the source's schema stays as it was
    newer.to_parquet(stats_parquet)
    (second,) = pipelines.run_due_schedules(now=start + 300_000 + 1_000)
    assert second.status == "FINISHED"
    assert features.online(["churn_stats:orders_30d"], [{"customer_id": 1}]) \
        .to_dict("list")["orders_30d"] == [41]
    runs = pipelines.list_schedule_runs(schedule.schedule_id)
    assert [r.status for r in runs] == ["FINISHED", "FINISHED"]
    assert features.staleness()["churn_stats"] is not None


def test_a_failing_materialization_is_a_failed_window(applied, stats_parquet):
    schedule = applied.pipelines.create_schedule("features.materialize", "*/5 * * * *")
    stats_parquet.unlink()  # the source is gone
    start = schedule.created_time - schedule.created_time % 300_000 + 300_000
    (fired,) = applied.pipelines.run_due_schedules(now=start + 1_000)
    assert fired.status == "FAILED"
    with pytest.raises(InvalidArgument, match="wrong"):
        applied.pipelines.create_schedule("features.materialize", "0 * * * *", {"wrong": "1"})


def test_from_the_command_line(gannet, definitions_file):
    assert gannet("features", "apply", str(definitions_file)).exit_code == 0
    made = gannet("schedule", "create", "features.materialize", "--cron", "* * * * *",
                  "-p", "views=churn_stats", "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["target"] == "features.materialize"
    fired = gannet("scheduler", "--once")
    assert fired.exit_code == 0, fired.output
    assert "FINISHED" in fired.output
    assert "never materialized" not in gannet("features", "list").output
