"""Schedules fire each window once, even with two schedulers; a missed window runs once."""

import json
import os
import subprocess
import sys
import time

import pytest

from gannet.core.errors import InvalidArgument

QUICK = """
    import gannet

    @gannet.step
    def hello(name: str) -> str:
        return "hello " + name

    @gannet.pipeline
    def greet(name: str = "world"):
        hello(name)
"""

MINUTE = 60_000


@pytest.fixture
def pipelines(settings):
    from gannet.bootstrap import build

    services = build(settings)
    yield services.pipelines
    services.close()


def test_windows_fire_once_and_missed_ones_run_once(pipelines, write_flow):
    flow = str(write_flow(QUICK))
    schedule = pipelines.create_schedule(flow, "*/5 * * * *", {"name": "gannet"}, "local")
    # the first window boundary after the schedule was made: times below are whole minutes
    # past it, so none crosses into a window the test does not mean (UTC, epoch-aligned)
    start = schedule.created_time - schedule.created_time % (5 * MINUTE) + 5 * MINUTE
    fired = pipelines.run_due_schedules(start)
    assert len(fired) == 1 and fired[0].status == "FINISHED"
    assert pipelines.load_output(fired[0].run_id, "hello") == "hello gannet"
    assert pipelines.run_due_schedules(start + 1000) == []  # the same window
    late = pipelines.run_due_schedules(start + 55 * MINUTE)  # 10 windows missed: one run
    assert len(late) == 1
    assert pipelines.run_due_schedules(start + 56 * MINUTE) == []
    history = pipelines.list_schedule_runs(schedule.schedule_id)
    assert [f.status for f in history] == ["FINISHED", "FINISHED"]
    assert history[0].window_time > history[1].window_time
    assert pipelines.get_pipeline_run(history[0].run_id).schedule_id == schedule.schedule_id


def test_bad_schedules_are_refused(pipelines, write_flow):
    flow = str(write_flow(QUICK))
    with pytest.raises(InvalidArgument, match="'0 3 \\* \\*' is not a cron expression"):
        pipelines.create_schedule(flow, "0 3 * *")
    with pytest.raises(InvalidArgument, match="has no parameter 'nmae'"):
        pipelines.create_schedule(flow, "0 3 * * *", {"nmae": "x"})
    assert pipelines.list_schedules() == []


@pytest.mark.slow  # two processes start side by side: ~5 s on two busy cores
def test_two_scheduler_processes_fire_a_window_exactly_once(settings, write_flow, gannet_cli):
    flow = write_flow(QUICK)
    created = gannet_cli("schedule", "create", str(flow), "--cron", "* * * * *", "-p",
                         "name=twice", "--executor", "local", "--json")
    assert created.exit_code == 0, created.output
    schedule_id = json.loads(created.stdout)["schedule_id"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    command = [sys.executable, "-m", "gannet", "--home", str(settings.home), "--metadata-url",
               settings.metadata_url, "--artifacts-url", settings.artifacts_url, "scheduler",
               "--once", "--json"]
    schedulers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in schedulers]
    assert [p.returncode for p in schedulers] == [0, 0], outs
    fired = [out for out, _ in outs if out.strip()]
    assert len(fired) == 1, outs  # one of the two won the window
    runs = json.loads(gannet_cli("schedule", "runs", schedule_id, "--json").stdout)
    assert len(runs) == 1 and runs[0]["status"] == "FINISHED"
    listed = gannet_cli("schedule", "list")
    assert schedule_id in listed.stdout and "FINISHED" in listed.stdout
    assert gannet_cli("schedule", "delete", schedule_id).exit_code == 0
    assert gannet_cli("schedule", "delete", schedule_id).exit_code == 4


@pytest.mark.slow  # a team server with two workers in a subprocess: ~10 s
def test_the_team_server_fires_each_window_once(settings, pipelines, write_flow):
    from gannet.testing.server import ServerProcess

    flow = str(write_flow(QUICK))
    schedule = pipelines.create_schedule(flow, "* * * * *", {"name": "server"}, "local")
    with ServerProcess(settings, "--no-auth", "--workers", "2",
                       env={"GANNET_SCHEDULER_INTERVAL": "0.3"}):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = pipelines.list_schedule_runs(schedule.schedule_id)
            if runs and all(r.status == "FINISHED" for r in runs):
                break
            time.sleep(0.3)
        time.sleep(1.5)  # both workers have looked again since
    runs = pipelines.list_schedule_runs(schedule.schedule_id)
    assert runs and all(r.status == "FINISHED" for r in runs), runs
    windows = [r.window_time for r in runs]
    assert len(windows) == len(set(windows))  # no window twice (a minute may turn meanwhile)
    assert pipelines.load_output(runs[-1].run_id, "hello") == "hello server"


TRIGGERED = """
    import gannet

    @gannet.step
    def read(dataset: str) -> str:
        return "read " + dataset

    @gannet.pipeline
    def retrain(dataset: str = "churn@1"):
        read(dataset)
"""


def test_each_new_dataset_version_fires_its_schedules_once(pipelines, write_flow):
    flow = str(write_flow(TRIGGERED))
    schedule = pipelines.create_schedule(flow, dataset="churn", executor="local")
    assert pipelines.run_due_schedules() == []  # no cron: only versions fire it
    [fired] = pipelines.on_dataset_version("churn", 3)
    assert pipelines.load_output(fired.run_id, "read") == "read churn@3"
    assert pipelines.on_dataset_version("churn", 3) == []  # reported again: runs once
    assert pipelines.on_dataset_version("other", 3) == []
    assert [f.window_time for f in pipelines.list_schedule_runs(schedule.schedule_id)] == [3]
    with pytest.raises(InvalidArgument, match="a cron expression or a dataset, not both"):
        pipelines.create_schedule(flow, "0 3 * * *", dataset="churn")
