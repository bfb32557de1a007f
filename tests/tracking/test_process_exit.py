"""Nothing logged is lost however a training script ends, and runs get the status it deserves.

Each test runs a real script in a child process against the same stores the test reads.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import gannet


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text("import gannet, time, sys\n" + textwrap.dedent(body))
    return path


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "GANNET_HOME": str(settings.home),
        "GANNET_METADATA_URL": settings.metadata_url,
        "GANNET_FLUSH_INTERVAL": "30",  # only the exit path can have written the points
    }


def _runs(sdk):
    return sdk.search_runs(experiment_names=["exit"], order_by=["attributes.start_time"])


def test_normal_exit_without_end_run_writes_everything_and_finishes(sdk, settings, tmp_path):
    script = _script(
        tmp_path,
        """
        gannet.set_experiment("exit")
        gannet.start_run()
        for i in range(3000):
            gannet.log_metric("loss", 1 / (i + 1), step=i)
    """,
    )
    subprocess.run([sys.executable, str(script)], env=_env(settings), check=True, timeout=120)
    (run,) = _runs(sdk)
    assert run.info.status == "FINISHED"
    assert len(gannet.get_metric_history(run.run_id, "loss")) == 3000


def test_uncaught_exception_ends_failed_with_the_error(sdk, settings, tmp_path):
    script = _script(
        tmp_path,
        """
        gannet.set_experiment("exit")
        gannet.start_run()
        gannet.log_metric("seen", 1.0)
        raise RuntimeError("data went missing")
    """,
    )
    done = subprocess.run(
        [sys.executable, str(script)], env=_env(settings), capture_output=True, timeout=120
    )
    assert done.returncode == 1 and b"data went missing" in done.stderr
    (run,) = _runs(sdk)
    assert run.info.status == "FAILED"
    assert run.data.tags["gannet.error"] == "RuntimeError: data went missing"
    assert run.data.metrics == {"seen": 1.0}


def test_ctrl_c_ends_killed_and_keeps_the_points(sdk, settings, tmp_path):
    ready = tmp_path / "ready"
    script = _script(
        tmp_path,
        f"""
        gannet.set_experiment("exit")
        with gannet.start_run():
            for i in range(500):
                gannet.log_metric("m", i, step=i)
            open({str(ready)!r}, "w").close()
            while True:
                time.sleep(0.05)
    """,
    )
    child = subprocess.Popen(
        [sys.executable, str(script)], env=_env(settings), stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    child.wait(timeout=60)
    child.stderr.close()
    (run,) = _runs(sdk)
    assert run.info.status == "KILLED"
    assert len(gannet.get_metric_history(run.run_id, "m")) == 500


@pytest.mark.slow
def test_two_processes_logging_to_one_run_lose_nothing(sdk, settings, tmp_path):
    run = sdk.get_client().create_run("0")
    script = _script(
        tmp_path,
        f"""
        client = gannet.get_client()
        worker = sys.argv[1]
        for i in range(4000):
            client.log_metric({run.run_id!r}, "shared", i, step=i)
            client.log_metric({run.run_id!r}, "own_" + worker, i, step=i)
            if i % 500 == 0:
                client.log_param({run.run_id!r}, f"p{{i}}", i)
                client.set_tag({run.run_id!r}, "last_" + worker, str(i))
        client.flush()
    """,
    )
    env = {**_env(settings), "GANNET_FLUSH_INTERVAL": "0.01", "GANNET_BUFFER_SIZE": "300"}
    children = [
        subprocess.Popen([sys.executable, str(script), w], env=env, stderr=subprocess.PIPE)
        for w in "ab"
    ]
    for child in children:
        _, err = child.communicate(timeout=240)
        assert child.returncode == 0, err.decode()
    assert len(gannet.get_metric_history(run.run_id, "shared")) == 8000
    assert len(gannet.get_metric_history(run.run_id, "own_a")) == 4000
    assert len(gannet.get_metric_history(run.run_id, "own_b")) == 4000
    data = gannet.get_run(run.run_id).data
    assert data.metrics["shared"] == 3999
    assert len(data.params) == 8
    assert data.tags["last_a"] == data.tags["last_b"] == "3500"
