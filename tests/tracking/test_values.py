"""A value a logging call accepts is one the store takes: the same rules on SQLite and
PostgreSQL, checked at the call. And one value the store refuses anyway (a rule of its own)
never stops what is logged after it: a real script logs through the background writer, and
what it logs after the bad value is stored, its run ends with the error kept."""

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from gannet.core.errors import InvalidArgument
from gannet.tracking.types import Metric


@pytest.fixture
def sdk(sdk_anywhere):
    """Every test here runs embedded and through a team server."""
    return sdk_anywhere

BAD_TEXT = ["a\x00b", "bad \udc80 byte"]


def test_timestamps_outside_milliseconds_since_1970_to_9999_are_refused_at_the_call(sdk):
    with sdk.start_run(log_environment=False) as run:
        for bad in (2**70, 2**63, -1, 1_700_000_000_000_000_000, float("nan"), float("inf")):
            with pytest.raises(
                InvalidArgument, match=r"metric 'x' timestamp .* not milliseconds since the epoch"
            ):
                sdk.log_metric("x", 1.0, timestamp=bad)
        with pytest.raises(InvalidArgument, match="metric 'x' timestamp must be an integer"):
            sdk.log_metric("x", 1.0, timestamp="yesterday")
        with pytest.raises(InvalidArgument, match="metric 'x' step .* does not fit in 64 bits"):
            sdk.log_metric("x", 1.0, step=2**63)
        with pytest.raises(InvalidArgument, match="metric 'y' timestamp"):
            sdk.get_client().log_batch(run.run_id, metrics=[Metric("y", 1.0, 2**70, 0)])
        with pytest.raises(InvalidArgument, match="run start timestamp"):
            sdk.get_client().create_run("0", start_time=2**70)
        sdk.log_metric("x", 2.0, timestamp=1_700_000_000_000)
    history = sdk.get_metric_history(run.run_id, "x")
    assert [(m.value, m.timestamp) for m in history] == [(2.0, 1_700_000_000_000)]
    assert sdk.get_run(run.run_id).info.status == "FINISHED"


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["nul", "surrogate"])
def test_text_a_backend_cannot_hold_is_refused_at_the_call(sdk, bad):
    client = sdk.get_client()
    with sdk.start_run(log_environment=False) as run:
        with pytest.raises(InvalidArgument, match="param 'p' value contains"):
            sdk.log_param("p", bad)
        with pytest.raises(InvalidArgument, match="tag 't' value contains"):
            sdk.set_tag("t", bad)
        with pytest.raises(InvalidArgument, match="key .* contains"):
            sdk.log_param(f"k{bad}", 1)
        with pytest.raises(InvalidArgument, match="param 'q' value contains"):
            client.log_batch(run.run_id, params={"q": bad})
        with pytest.raises(InvalidArgument, match="run name .* contains"):
            client.update_run(run.run_id, name=f"run {bad}")
        with pytest.raises(InvalidArgument, match="artifact path .* contains"):
            sdk.log_text("x", f"notes {bad}.txt")
        with pytest.raises(InvalidArgument, match="experiment name .* contains"):
            client.create_experiment(f"exp {bad}")
        with pytest.raises(InvalidArgument, match="experiment name .* contains"):
            sdk.set_experiment(f"exp {bad}")
        with pytest.raises(InvalidArgument, match="run name .* contains"):
            sdk.start_run(run_name=f"child {bad}", nested=True)
        sdk.log_param("p", "good")
        sdk.set_tag("t", "good")
    stored = sdk.get_run(run.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"p": "good"}
    assert stored.data.tags["t"] == "good"


@pytest.mark.parametrize("key", ["loss\n", "a/b\n", " ", "   "])
def test_keys_ending_in_a_newline_or_made_only_of_spaces_are_refused(sdk, key):
    with sdk.start_run(log_environment=False):
        with pytest.raises(InvalidArgument, match="metric key"):
            sdk.log_metric(key, 1.0)
        with pytest.raises(InvalidArgument, match="param key"):
            sdk.log_param(key, 1)
        with pytest.raises(InvalidArgument, match="tag key"):
            sdk.set_tag(key, "v")


# -- a real script -----------------------------------------------------------------------


def _run_script(settings, tmp_path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    env = {
        **os.environ,
        "GANNET_HOME": str(settings.home),
        "GANNET_METADATA_URL": settings.metadata_url,
        "GANNET_CAPTURE_ENVIRONMENT": "false",
    }
    return subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_refused_value_does_not_stop_what_a_script_logs_after_it(sdk, settings, tmp_path):
    done = _run_script(
        settings,
        tmp_path,
        """
        import gannet
        from gannet.core.errors import InvalidArgument

        gannet.set_experiment("values")
        with gannet.start_run(run_name="first"):
            gannet.log_metric("before", 1.0)
            for bad in ({"timestamp": 2**70}, {"step": 2**64}):
                try:
                    gannet.log_metric("bad", 1.0, **bad)
                except InvalidArgument as error:
                    print("refused", error.code)
            try:
                gannet.set_tag("nul", "a\\x00b")
            except InvalidArgument as error:
                print("refused", error.code)
            for i in range(200):
                gannet.log_metric("after", float(i), step=i)
            gannet.log_param("p", 1)
        with gannet.start_run(run_name="second"):
            gannet.log_metric("next", 2.0)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n").count("refused INVALID_PARAMETER_VALUE") == 3
    first, second = sdk.search_runs(experiment_names=["values"], order_by=["attributes.start_time"])
    assert (first.info.status, second.info.status) == ("FINISHED", "FINISHED")
    assert len(sdk.get_metric_history(first.run_id, "after")) == 200
    assert first.data.metrics == {"before": 1.0, "after": 199.0}
    assert first.data.params == {"p": "1"}
    assert second.data.metrics == {"next": 2.0}


@contextmanager
def _store_refusing_poison(url: str) -> Iterator[None]:
    """Make the store itself refuse some values (a rule of its own, as a constraint or a
    trigger an administrator added): tags valued 'poison' and the metric value 666."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            refused = {"tags": "NEW.value = 'poison'", "metrics": "NEW.value = 666"}
            for table, condition in refused.items():
                conn.exec_driver_sql(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {condition} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the store'); END"
                )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                "IF (TG_TABLE_NAME = 'tags' AND NEW.value::text = 'poison') "
                "OR (TG_TABLE_NAME = 'metrics' AND NEW.value::text = '666') "
                "THEN RAISE EXCEPTION 'refused by the store'; END IF; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            for table in ("tags", "metrics"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
                )
    try:
        yield
    finally:
        with engine.begin() as conn:
            if conn.dialect.name != "sqlite":  # the session's database outlives this test
                conn.exec_driver_sql("DROP FUNCTION refuse_poison() CASCADE")
        engine.dispose()


def test_values_the_store_refuses_are_reported_and_everything_else_lands(
    sdk, settings, tmp_path
):
    sdk.search_runs()  # the store gets its schema before it gets rules of its own
    with _store_refusing_poison(settings.metadata_url):
        done = _run_script(
            settings,
            tmp_path,
            """
            import gannet

            gannet.set_experiment("refused")
            with gannet.start_run():
                gannet.log_metric("before", 1.0)
                gannet.set_tag("note", "poison")
                gannet.log_metric("m", 666.0, step=1)
                gannet.log_metric("m", 1.0, step=2)
                for i in range(300):
                    gannet.log_metric("after", float(i), step=i)
                gannet.log_param("p", 3)
                gannet.set_tag("kept", "yes")
            """,
        )
    assert done.returncode == 1  # the error is raised where the run ends, not swallowed
    assert "refused 2 logged entries" in done.stderr, done.stderr
    (run,) = sdk.search_runs(experiment_names=["refused"])
    assert run.info.status == "FAILED"
    error = run.data.tags["gannet.error"]
    assert "tag 'note'" in error and "metric 'm'" in error and "refused by the store" in error
    assert "note" not in run.data.tags and run.data.tags["kept"] == "yes"
    assert run.data.params == {"p": "3"}
    assert [m.value for m in sdk.get_metric_history(run.run_id, "m")] == [1.0]
    assert len(sdk.get_metric_history(run.run_id, "after")) == 300
    assert run.data.metrics["before"] == 1.0
