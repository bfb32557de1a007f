"""The processes and Dask executors run the same pipelines with the same results."""

import os
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from gannet.core.errors import InvalidArgument
from gannet.pipelines import load_pipeline

WIDE = """
    import os, time
    import gannet

    @gannet.step
    def square(x: int) -> dict:
        began = time.time()
        time.sleep(0.2)
        return {"value": x * x, "pid": os.getpid(), "began": began, "ended": time.time()}

    @gannet.step
    def gather(results: list) -> int:
        return sum(r["value"] for r in results)

    @gannet.step(retries=1, backoff=0.01)
    def dies() -> int:
        os._exit(3)  # the worker process itself goes away

    @gannet.step(timeout=0.2)
    def stuck() -> int:
        time.sleep(1.5)  # a Dask worker's thread cannot be interrupted: the coordinator gives up
        return 0

    @gannet.pipeline
    def wide(n: int = 4, die: bool = False, stall: bool = False):
        gather(square.map(list(range(n))))
        if die:
            dies()
        if stall:
            stuck()
"""


def bounded(call, *args, **kwargs):
    """``call(...)``, failing the test after 120 s instead of waiting for ever (a cluster
    started on a machine loaded enough can lose its worker, and the run its steps)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(call, *args, **kwargs).result(timeout=120)
    except FutureTimeout:
        pytest.fail("the run on the Dask cluster did not end within 120 s")
    finally:
        pool.shutdown(wait=False)


@pytest.fixture
def wide(write_flow):
    return load_pipeline(str(write_flow(WIDE)))


def test_independent_steps_run_in_parallel_worker_processes(sdk, wide):
    run = sdk.run_pipeline(wide, executor="processes")
    assert run.status == "FINISHED"
    assert sdk.load_output(run.run_id, "gather") == 14
    squares = [sdk.load_output(run.run_id, f"square[{i}]") for i in range(4)]
    pids = {s["pid"] for s in squares}
    assert os.getpid() not in pids and len(pids) >= 2
    overlapping = [(a, b) for a in squares for b in squares
                   if a is not b and a["began"] < b["ended"] and b["began"] < a["ended"]]
    assert overlapping  # two steps were running at the same moment


def test_a_worker_that_dies_is_retried_then_fails_with_the_reason(sdk, wide):
    run = sdk.run_pipeline(wide, executor="processes", n=1, die=True)
    assert run.status == "FAILED"
    dead = run.step("dies")
    assert dead.attempts == 2
    assert "the worker running step 'dies' failed: BrokenProcessPool" in dead.error


def test_dask_runs_steps_on_a_cluster_artifacts_through_the_store(sdk, wide):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as c:
        run = bounded(sdk.run_pipeline, wide, executor="dask", address=c.scheduler_address)
    assert run.status == "FINISHED"
    assert sdk.load_output(run.run_id, "gather") == 14
    again = sdk.run_pipeline(wide, executor="local")
    assert all(s.cached for s in again.steps)  # the same outputs, in the same store


@pytest.mark.slow  # waits out a step that cannot be interrupted
def test_the_coordinator_gives_up_on_a_dask_step_past_its_timeout(sdk, wide):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as c:
        stalled = bounded(sdk.run_pipeline, wide, executor="dask",
                          address=c.scheduler_address, n=1, stall=True)
    assert stalled.status == "FAILED"
    assert stalled.step("stuck").error == ("StepTimeout: step 'stuck' ran longer than its "
                                           "timeout of 0.2 s")


def test_a_step_defined_inside_a_function_cannot_go_to_other_processes(sdk):
    import gannet

    @gannet.step
    def inner() -> int:
        return 1

    @gannet.pipeline
    def closure():
        inner()

    with pytest.raises(InvalidArgument, match="step 'inner' cannot be sent to the processes "
                                              "executor's workers: step 'inner' is defined "
                                              "inside a function") as caught:
        sdk.run_pipeline(closure, executor="processes")
    assert "define steps at the top level" in caught.value.hint
    with pytest.raises(InvalidArgument, match="step 'inner' cannot be sent to the dask "
                                              "executor's workers"):
        sdk.run_pipeline(closure, executor="dask", address="tcp://127.0.0.1:9")
    assert sdk.run_pipeline(closure, executor="local").status == "FINISHED"


HELD = """
    import os, threading
    import gannet

    LOCK = threading.Lock()

    @gannet.step
    def look() -> dict:
        return {"lock_free": LOCK.acquire(timeout=3), "cwd": os.getcwd(),
                "mark": os.environ.get("GANNET_TEST_MARK")}

    @gannet.pipeline
    def held():
        look()
"""


def test_workers_start_clean_of_the_callers_threads_yet_in_its_folder_and_environment(
        sdk, write_flow, tmp_path, monkeypatch):
    """A thread of the caller holding a lock while workers start (a server's, a BLAS or
    DuckDB pool's) must not leave it held in them: a plain fork would, and the worker hang."""
    import sys
    import threading

    pipeline = load_pipeline(str(write_flow(HELD)))
    module = sys.modules[pipeline.fn.__module__]
    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setenv("GANNET_TEST_MARK", "seen")
    taken, release = threading.Event(), threading.Event()

    def hold():
        with module.LOCK:
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    try:
        run = sdk.run_pipeline(pipeline, executor="processes")
    finally:
        release.set()
        holder.join()
    assert run.status == "FINISHED"
    assert sdk.load_output(run.run_id, "look") == {"lock_free": True, "cwd": str(here),
                                                   "mark": "seen"}
