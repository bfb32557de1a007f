"""Experiments and runs through the fluent SDK and GannetClient, on SQLite and PostgreSQL."""

import math

import pytest

from gannet.core.errors import AlreadyExists, Conflict, InvalidArgument, InvalidState, NotFound


@pytest.fixture
def sdk(sdk_anywhere):
    """Every test here runs embedded and through a team server."""
    return sdk_anywhere


def test_a_training_run_keeps_params_metrics_tags_and_ends_finished(sdk):
    experiment = sdk.set_experiment("churn")
    with sdk.start_run(run_name="rf-1", tags={"team": "growth"}) as run:
        sdk.log_param("model", "rf")
        sdk.log_params({"n_estimators": 100, "max_depth": None})
        for step in range(5):
            sdk.log_metric("loss", 1.0 / (step + 1), step=step)
        sdk.log_metrics({"acc": 0.91, "f1": 0.88})
        sdk.set_tags({"stage": "dev"})
    stored = sdk.get_run(run.run_id)
    assert stored.info.experiment_id == experiment.experiment_id
    assert stored.info.run_name == "rf-1"
    assert stored.info.status == "FINISHED"
    assert stored.info.end_time >= stored.info.start_time
    assert stored.data.params == {"model": "rf", "n_estimators": "100", "max_depth": "None"}
    assert stored.data.metrics == {"loss": pytest.approx(0.2), "acc": 0.91, "f1": 0.88}
    assert stored.data.tags["team"] == "growth"
    assert stored.data.tags["stage"] == "dev"
    history = sdk.get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert [m.value for m in history] == pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2])


def test_nested_runs_know_their_parent(sdk):
    with sdk.start_run() as parent:
        with sdk.start_run(nested=True) as child:
            sdk.log_metric("x", 1)
        with pytest.raises(InvalidState, match="already active.*nested=True"):
            sdk.start_run()
    assert sdk.get_run(child.run_id).info.parent_run_id == parent.run_id
    assert sdk.get_run(parent.run_id).info.parent_run_id is None


def test_an_exception_ends_the_run_failed_and_keeps_the_error(sdk):
    with pytest.raises(ZeroDivisionError), sdk.start_run() as run:
        sdk.log_metric("before", 1.0)
        _ = 1 / 0
    stored = sdk.get_run(run.run_id)
    assert stored.info.status == "FAILED"
    assert stored.data.tags["gannet.error"].startswith("ZeroDivisionError")
    assert "1 / 0" in stored.data.tags["gannet.error.traceback"]
    assert stored.data.metrics == {"before": 1.0}


def test_keyboard_interrupt_ends_the_run_killed(sdk):
    with pytest.raises(KeyboardInterrupt), sdk.start_run() as run:
        raise KeyboardInterrupt
    assert sdk.get_run(run.run_id).info.status == "KILLED"


def test_params_are_immutable_but_relogging_the_same_value_is_fine(sdk):
    with sdk.start_run() as run:
        sdk.log_param("lr", 0.1)
        sdk.log_param("lr", 0.1)
        with pytest.raises(Conflict, match=r"param 'lr'.*'0.1'.*'0.2'.*immutable"):
            sdk.log_param("lr", 0.2)
        with pytest.raises(Conflict):  # a batch with one conflicting param stores nothing
            sdk.log_params({"new": 1, "lr": 0.3})
    assert sdk.get_run(run.run_id).data.params == {"lr": "0.1"}


def test_nan_and_infinities_are_stored_faithfully(sdk):
    with sdk.start_run() as run:
        sdk.log_metric("nan", float("nan"), step=0)
        sdk.log_metric("inf", float("inf"))
        sdk.log_metric("ninf", float("-inf"))
        sdk.log_metric("huge", 1.7e308)
        sdk.log_metric("int", 10**18)
    metrics = sdk.get_run(run.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    assert metrics["huge"] == 1.7e308 and metrics["int"] == 1e18
    assert math.isnan(sdk.get_metric_history(run.run_id, "nan")[0].value)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("../escape", "not a clean relative name"),
        ("/abs", "not a clean relative name"),
        ("a\\b", "contains"),
        ("semi;colon", "contains ';'"),
        ("", "non-empty"),
        ("k" * 251, "limit 250"),
    ],
)
def test_bad_keys_are_refused_and_nothing_is_stored(sdk, key, message):
    with sdk.start_run() as run:
        with pytest.raises(InvalidArgument, match=message):
            sdk.log_metric(key, 1.0)
        with pytest.raises(InvalidArgument, match=message):
            sdk.log_param(key, 1)
        with pytest.raises(InvalidArgument, match=message):
            sdk.set_tag(key, "x")
    data = sdk.get_run(run.run_id).data
    assert data.metrics == {} and data.params == {}


def test_bad_values_are_refused(sdk):
    with sdk.start_run():
        with pytest.raises(InvalidArgument, match="not a number"):
            sdk.log_metric("acc", "high")
        with pytest.raises(InvalidArgument, match="too large"):
            sdk.log_metric("big", 10**400)
        with pytest.raises(InvalidArgument, match="step must be an integer"):
            sdk.log_metric("acc", 1.0, step=1.5)
        with pytest.raises(InvalidArgument, match="limit 6000.*log_text"):
            sdk.log_param("long", "x" * 6001)


def test_unknown_ids_say_what_to_do(sdk):
    client = sdk.get_client()
    with pytest.raises(NotFound, match="no run with id 'nope'.*gannet runs list"):
        client.log_metric("nope", "x", 1.0)
    with pytest.raises(NotFound, match="no experiment with id 'nope'"):
        client.create_run("nope")
    with pytest.raises(NotFound):
        sdk.set_experiment(experiment_id="nope")
    with pytest.raises(NotFound):
        sdk.get_run("0" * 32)


def test_experiments_create_rename_delete_restore(sdk):
    client = sdk.get_client()
    eid = client.create_experiment("a", tags={"owner": "ana"})
    with pytest.raises(AlreadyExists, match="'a' already exists"):
        client.create_experiment("a")
    client.rename_experiment(eid, "b")
    assert client.get_experiment(eid).name == "b"
    assert client.get_experiment(eid).tags == {"owner": "ana"}
    client.delete_experiment(eid)
    assert [e.name for e in client.search_experiments()] == ["Default"]
    assert {e.name for e in client.search_experiments("all")} == {"Default", "b"}
    with pytest.raises(InvalidState, match="deleted"):
        client.create_run(eid)
    with pytest.raises(AlreadyExists, match=r"\(deleted\)"):
        client.create_experiment("b")
    client.restore_experiment(eid)
    assert client.create_run(eid).info.status == "RUNNING"
    with pytest.raises(InvalidArgument, match="cannot be deleted"):
        client.delete_experiment("0")


def test_deleted_runs_refuse_logging_and_leave_search(sdk):
    client = sdk.get_client()
    run = client.create_run("0")
    client.log_metric(run.run_id, "m", 1.0)
    client.delete_run(run.run_id)
    with pytest.raises(InvalidState, match="deleted.*restore"):
        client.log_param(run.run_id, "a", 1)
    assert client.search_runs("0") == []
    assert [r.run_id for r in client.search_runs("0", run_view_type="deleted")] == [run.run_id]
    client.restore_run(run.run_id)
    assert [r.run_id for r in client.search_runs("0")] == [run.run_id]


def test_search_filters_orders_and_pages(sdk):
    sdk.set_experiment("search")
    for i in range(25):
        with sdk.start_run(run_name=f"r{i}", log_environment=False):
            sdk.log_metric("acc", i / 25)
            sdk.log_param("model", "rf" if i % 2 else "lr")
            sdk.set_tag("team", "x" if i < 5 else "y")
    page = sdk.search_runs(
        "metrics.acc > 0.5 and params.model = 'rf' and tags.team != 'x' "
        "and attributes.status = 'FINISHED'",
        order_by=["metrics.acc DESC"],
        max_results=3,
    )
    names = [r.info.run_name for r in page]
    assert names == ["r23", "r21", "r19"]
    seen = list(names)
    while page.next_page_token:
        page = sdk.search_runs(
            "metrics.acc > 0.5 and params.model = 'rf' and tags.team != 'x' "
            "and attributes.status = 'FINISHED'",
            order_by=["metrics.acc DESC"],
            max_results=3,
            page_token=page.next_page_token,
        )
        seen += [r.info.run_name for r in page]
    assert seen == ["r23", "r21", "r19", "r17", "r15", "r13"]
    with pytest.raises(InvalidArgument, match="different query"):
        sdk.search_runs(
            "metrics.acc > 0.1",
            max_results=3,
            page_token=page.next_page_token or sdk.search_runs("", max_results=1).next_page_token,
        )
    frame = sdk.search_runs("params.model ILIKE 'R%'", order_by=["attributes.run_name"]).to_pandas()
    assert len(frame) == 12 and "metrics.acc" in frame.columns


def test_search_rejects_bad_filters_with_the_reason(sdk):
    with pytest.raises(InvalidArgument):
        sdk.search_runs("metrics.acc > 'high'")
    with pytest.raises(InvalidArgument, match="max_results"):
        sdk.search_runs("", max_results=0)


def test_the_latest_value_is_the_highest_step_whatever_the_logging_order(sdk):
    client = sdk.get_client()
    run = client.create_run("0")
    client.log_metric(run.run_id, "m", 5.0, timestamp=1000, step=5)
    client.log_metric(run.run_id, "m", 3.0, timestamp=2000, step=3)  # later in time, earlier step
    client.flush()
    client.log_metric(run.run_id, "m", 1.0, timestamp=500, step=2)  # a later flush, older step
    client.log_metric(run.run_id, "n", float("nan"), timestamp=1000, step=1)
    client.log_metric(run.run_id, "n", 7.0, timestamp=1000, step=1)  # a tie: the number wins
    assert client.get_run(run.run_id).data.metrics == {"m": 5.0, "n": 7.0}
    assert [m.step for m in client.get_metric_history(run.run_id, "m")] == [2, 3, 5]


def test_a_number_displaces_a_nan_at_the_same_step_across_flushes(sdk):
    client = sdk.get_client()
    run = client.create_run("0")
    client.log_metric(run.run_id, "n", float("nan"), timestamp=1000, step=1, synchronous=True)
    client.log_metric(run.run_id, "n", 7.0, timestamp=1000, step=1, synchronous=True)
    assert client.get_run(run.run_id).data.metrics == {"n": 7.0}


def test_the_experiment_setting_names_where_fluent_runs_go(sdk, settings):
    sdk.configure(settings.replace(experiment_name="from-settings"))
    with sdk.start_run() as run:
        sdk.log_metric("x", 1.0)
    experiment = sdk.get_client().get_experiment_by_name("from-settings")
    assert experiment is not None
    assert sdk.get_run(run.run_id).info.experiment_id == experiment.experiment_id
