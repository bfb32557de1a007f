"""Running pipelines through the SDK: outputs, tracking, caching, retries, resume."""

import json

import pytest

from gannet.core.errors import InvalidArgument, InvalidState
from gannet.pipelines import load_pipeline

FLOW = """
    import dataclasses, sys, pathlib
    import gannet
    from gannet.pipelines import log_metric, when

    RAN = pathlib.Path({ran!r})

    def mark(name):
        (RAN / f"{{name}}.{{len(list(RAN.glob(name + '.*')))}}").touch()

    def double(x):  # a project function the step calls: part of its cache key
        return x * 2

    @gannet.step
    def load(n: int) -> list:
        mark("load")
        print("loaded", n)
        return list(range(n))

    @gannet.step
    def split(xs: list) -> tuple[list, list]:
        mark("split")
        return xs[: len(xs) // 2], xs[len(xs) // 2 :]

    @gannet.step
    def total(xs: list, scale: float = 1.0) -> float:
        mark("total")
        print("oops", file=sys.stderr)
        log_metric("count", len(xs))
        return double(sum(xs)) * scale

    @gannet.step(cache=False)
    def report(a: float, b: float) -> dict:
        mark("report")
        return {{"a": a, "b": b}}

    @gannet.pipeline
    def flow(n: int = 10, scale: float = 1.0):
        train, test = split(load(n))
        report(total(train, scale), total(test))
"""


@pytest.fixture
def flow(write_flow, counter):
    return load_pipeline(str(write_flow(FLOW.format(ran=str(counter.folder)))))


def test_a_run_stores_outputs_and_records_each_step_as_a_nested_run(sdk, flow):
    run = sdk.run_pipeline(flow, executor="local", n="6", scale=0.5)
    assert run.status == "FINISHED"
    assert [(s.name, s.status, s.cached) for s in run.steps] == [
        ("load", "FINISHED", False), ("split", "FINISHED", False),
        ("total", "FINISHED", False), ("total_2", "FINISHED", False),
        ("report", "FINISHED", False)]
    assert sdk.load_output(run.run_id, "report") == {"a": 3.0, "b": 24.0}
    assert sdk.load_output(run.run_id, "split", "output_1") == [3, 4, 5]
    with pytest.raises(InvalidArgument, match="step 'split' has 2 outputs; say which"):
        sdk.load_output(run.run_id, "split")
    document = run.to_dict()
    assert set(document) == {"run_id", "status", "steps"}
    assert set(document["steps"][0]) == {"name", "status", "cached", "duration_s"}

    parent = sdk.get_run(run.run_id)
    assert parent.info.status == "FINISHED" and parent.data.params == {"n": "6", "scale": "0.5"}
    total = sdk.get_run(run.step("total").step_run_id)
    assert total.info.parent_run_id == run.run_id
    assert total.data.tags["mlflow.parentRunId"] == run.run_id
    assert total.data.params == {"scale": "0.5"}
    assert total.data.metrics["count"] == 3 and total.data.metrics["duration_s"] >= 0
    inputs = json.loads(total.data.tags["gannet.step.inputs"])
    assert inputs["xs"] == run.step("split").outputs["output_0"].digest
    outputs = json.loads(total.data.tags["gannet.step.outputs"])
    assert outputs == {"output": run.step("total").outputs["output"].digest}
    client = sdk.get_client()
    assert client.read_artifact(total.info.run_id, "stderr.txt") == b"oops\n"
    load = run.step("load").step_run_id
    assert client.read_artifact(load, "stdout.txt") == b"loaded 6\n"


def test_a_rerun_is_answered_from_the_cache_unless_told_not_to(sdk, flow, counter):
    first = sdk.run_pipeline(flow, executor="local")
    second = sdk.run_pipeline(flow, executor="local")
    assert [s.cached for s in second.steps] == [True, True, True, True, False]
    assert counter("load") == 1 and counter("total") == 2 and counter("report") == 2
    assert sdk.load_output(second.run_id, "report") == sdk.load_output(first.run_id, "report")
    assert sdk.get_run(second.step("load").step_run_id).data.tags["gannet.step.cached"] == "true"
    first_total = sdk.get_run(first.steps[2].step_run_id)
    hit = sdk.get_run(second.steps[2].step_run_id)  # what was measured comes with the hit
    assert hit.data.metrics["count"] == first_total.data.metrics["count"]
    assert hit.data.tags["gannet.step.cached_from"] == first_total.info.run_id

    changed = sdk.run_pipeline(flow, executor="local", scale=2.0)  # a parameter of one step
    assert [s.cached for s in changed.steps] == [True, True, False, True, False]
    fresh = sdk.run_pipeline(flow, executor="local", no_cache=True)
    assert not any(s.cached for s in fresh.steps)
    assert counter("load") == 2


def test_a_step_stored_by_two_runs_at_once_is_stored_by_both(sdk, flow, settings):
    """A sweep's trials compute the same steps at the same moment: the second writer of a
    cache entry waits for the first and replaces it, rather than failing on its key."""
    if not settings.metadata_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the race needs PostgreSQL")
    import threading

    import sqlalchemy as sa

    first = sdk.run_pipeline(flow, executor="local")
    engine = sa.create_engine(settings.metadata_url)
    holder = engine.connect()
    try:
        writing = holder.begin()  # another run, mid-way through storing the same entry
        row = holder.execute(sa.text("SELECT * FROM pipeline_cache WHERE step_run_id = :r"),
                             {"r": first.step("load").step_run_id}).mappings().one()
        holder.execute(sa.text("DELETE FROM pipeline_cache WHERE cache_key = :cache_key"), row)
        holder.execute(sa.text("INSERT INTO pipeline_cache VALUES (:cache_key, :outputs, "
                               ":step_run_id, :created_time)"), row)
        done = []
        second = threading.Thread(
            target=lambda: done.append(sdk.run_pipeline(flow, executor="local", no_cache=True)))
        second.start()
        _wait_for_a_lock_wait(engine)
        writing.commit()
        second.join(60)
    finally:
        holder.close()
        engine.dispose()
    assert done and done[0].status == "FINISHED"
    assert sdk.run_pipeline(flow, executor="local").steps[0].cached


def _wait_for_a_lock_wait(engine) -> None:
    import time

    import sqlalchemy as sa

    waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + 30
    with engine.connect() as conn:
        while not conn.execute(waiting).scalar():
            assert time.monotonic() < deadline, "the second run never reached the cache write"
            time.sleep(0.05)


def test_a_change_in_a_function_the_step_calls_invalidates_its_cache(sdk, write_flow, counter):
    source = FLOW.format(ran=str(counter.folder))
    first = sdk.run_pipeline(load_pipeline(str(write_flow(source))), executor="local")
    edited = source.replace("return x * 2", "return x * 3")
    second = sdk.run_pipeline(load_pipeline(str(write_flow(edited))), executor="local")
    assert [s.cached for s in second.steps] == [True, True, False, False, False]
    assert sdk.load_output(second.run_id, "report") != sdk.load_output(first.run_id, "report")


FAILING = """
    import pathlib, time
    import gannet

    RAN = pathlib.Path({ran!r})

    def mark(name):
        (RAN / f"{{name}}.{{len(list(RAN.glob(name + '.*')))}}").touch()

    @gannet.step
    def prepare() -> int:
        mark("prepare")
        return 1

    @gannet.step(retries=2, backoff=0.01)
    def flaky(x: int) -> int:
        mark("flaky")
        if len(list(RAN.glob("flaky.*"))) < 3:
            raise ConnectionError("not yet")
        return x + 1

    @gannet.step
    def fragile(x: int) -> int:
        mark("fragile")
        if not (RAN / "fixed").exists():
            raise ValueError("broken input")
        return x * 10

    @gannet.step
    def after(x: int) -> int:
        mark("after")
        return x + 1

    @gannet.step(timeout=0.2)
    def slow() -> int:
        time.sleep(5)
        return 0

    @gannet.pipeline
    def failing(with_slow: bool = False):
        x = prepare()
        after(fragile(flaky(x)))
        if with_slow:
            slow()
"""


def test_retries_then_a_failure_that_keeps_its_traceback_and_a_resume(sdk, write_flow, counter):
    failing = load_pipeline(str(write_flow(FAILING.format(ran=str(counter.folder)))))
    run = sdk.run_pipeline(failing, executor="local")
    assert run.status == "FAILED"
    states = {s.name: s.status for s in run.steps}
    assert states == {"prepare": "FINISHED", "flaky": "FINISHED", "fragile": "FAILED",
                      "after": "PENDING"}
    assert run.step("flaky").attempts == 3 and counter("flaky") == 3
    broken = run.step("fragile")
    assert broken.error == "ValueError: broken input"
    assert 'raise ValueError("broken input")' in broken.traceback
    step_run = sdk.get_run(broken.step_run_id)
    assert step_run.info.status == "FAILED"
    assert b"ValueError" in sdk.get_client().read_artifact(broken.step_run_id, "traceback.txt")
    assert sdk.get_run(run.run_id).info.status == "FAILED"

    (counter.folder / "fixed").touch()
    resumed = sdk.get_client().resume_pipeline(run.run_id, pipeline=failing)
    assert resumed.run_id == run.run_id and resumed.status == "FINISHED"
    assert counter("prepare") == 1 and counter("flaky") == 3  # kept, not run again
    assert counter("fragile") == 2 and counter("after") == 1
    assert sdk.load_output(run.run_id, "after") == 21
    with pytest.raises(InvalidState, match="is FINISHED: nothing to resume"):
        sdk.get_client().resume_pipeline(run.run_id, pipeline=failing)


def test_a_step_over_its_timeout_fails(sdk, write_flow, counter):
    (counter.folder / "fixed").touch()
    failing = load_pipeline(str(write_flow(FAILING.format(ran=str(counter.folder)))))
    run = sdk.run_pipeline(failing, executor="local", with_slow=True)
    assert run.status == "FAILED"
    assert run.step("slow").error == "StepTimeout: step 'slow' ran longer than its timeout of 0.2 s"
    assert run.step("slow").duration_s < 2
