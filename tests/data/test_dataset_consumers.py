"""A dataset version is what other capabilities read: a feature view's source, a monitor's
reference, and the trigger of a pipeline scheduled on the dataset's new versions."""

import textwrap
from datetime import datetime, timedelta

import pandas as pd
import pytest

from gannet.bootstrap import build
from gannet.core.errors import NotFound
from tests.pipelines.test_schedules import TRIGGERED

T0 = datetime(2026, 1, 1)


@pytest.fixture
def services(settings):
    services = build(settings)
    yield services
    services.close()


def _stats(orders: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2], "event_timestamp": [T0, T0],
                         "orders_30d": orders})


def test_a_feature_view_reads_a_dataset_version(services):
    from gannet.features import Entity, FeatureView

    services.data.add_table(_stats([10, 5]), "churn-stats")
    services.data.add_table(_stats([99, 98]), "churn-stats")  # @2: not the one asked for
    customer = Entity("customer", join_keys=["customer_id"])
    view = FeatureView("churn_stats", entities=[customer], source="churn-stats@1",
                       features=["orders_30d"], ttl="30d")
    services.features.apply([customer, view])
    entities = pd.DataFrame({"customer_id": [1, 2],
                             "event_timestamp": [T0 + timedelta(days=1)] * 2})
    found = services.features.training_set(entities, ["churn_stats:orders_30d"])
    assert found["orders_30d"].tolist() == [10, 5]


def test_a_monitor_takes_a_dataset_version_as_its_reference(services):
    reference = pd.DataFrame({"age": [30.0, 40.0, 50.0] * 20, "plan": ["a", "b", "c"] * 20})
    services.data.add_table(reference, "training-data")
    monitor = services.monitoring.create_monitor("churn", "dataset:training-data@1")
    assert monitor.reference_source == "dataset:training-data@1"
    with pytest.raises(NotFound, match="missing"):
        services.monitoring.create_monitor("other", "dataset:missing@1")


def test_the_scheduler_fires_a_dataset_schedule_once_per_new_version(services, tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text(textwrap.dedent(TRIGGERED))
    pipelines = services.pipelines
    services.data.add_table(_stats([1, 2]), "churn")  # before the schedule: never fired
    schedule = pipelines.create_schedule(str(flow), dataset="churn", executor="local")
    assert pipelines.run_due_schedules() == []
    services.data.add_table(_stats([3, 4]), "churn")
    [fired] = pipelines.run_due_schedules()
    assert pipelines.load_output(fired.run_id, "read") == "read churn@2"
    assert pipelines.run_due_schedules() == []  # the same version: once
    services.data.add_table(_stats([5, 6]), "churn")
    services.data.add_table(_stats([7, 8]), "churn")  # two between ticks: the latest runs
    [fired] = pipelines.run_due_schedules()
    assert pipelines.load_output(fired.run_id, "read") == "read churn@4"
    assert [f.window_time for f in pipelines.list_schedule_runs(schedule.schedule_id)] == \
        [4, 2]
