"""``gannet pipeline show|run|resume|inspect`` on real files and stores."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FLOW = """
    import pathlib
    import gannet

    FLAG = pathlib.Path({flag!r})

    @gannet.step
    def load(n: int) -> list:
        return list(range(n))

    @gannet.step
    def total(xs: list, lr: float) -> float:
        if not FLAG.exists():
            raise RuntimeError("flag missing")
        return sum(xs) * lr

    @gannet.pipeline
    def train(n: int = 3, lr: float = 0.5):
        total(load(n), lr)

    @gannet.pipeline
    def other():
        load(1)
"""


@pytest.fixture
def flow(write_flow, tmp_path):
    return write_flow(FLOW.format(flag=str(tmp_path / "flag")))


def test_show_draws_the_steps_and_parameters(gannet_cli, flow):
    shown = gannet_cli("pipeline", "show", f"{flow}:train", "--param", "n=5")
    assert shown.exit_code == 0, shown.output
    assert "pipeline train" in shown.stdout and "n: int = 5" in shown.stdout
    assert "xs <- load.output" in shown.stdout
    document = json.loads(gannet_cli("pipeline", "show", f"{flow}:train", "--json").stdout)
    assert document["edges"] == [["load", "total"]]
    several = gannet_cli("pipeline", "show", str(flow))
    assert several.exit_code == 3
    assert "defines 2 pipelines (other, train)" in several.stderr


def test_run_fail_resume_and_inspect(gannet_cli, flow, tmp_path):
    failed = gannet_cli("pipeline", "run", f"{flow}:train", "-p", "n=4", "--executor", "local",
                        "--json")
    assert failed.exit_code == 1
    document = json.loads(failed.stdout)
    assert document["status"] == "FAILED"
    assert [(s["name"], s["status"]) for s in document["steps"]] == [
        ("load", "FINISHED"), ("total", "FAILED")]
    run_id = document["run_id"]
    step = json.loads(gannet_cli("pipeline", "inspect", run_id, "total", "--json").stdout)
    assert "RuntimeError: flag missing" in step["traceback"]

    (tmp_path / "flag").touch()
    resumed = gannet_cli("pipeline", "resume", run_id, "--json")
    assert resumed.exit_code == 0, resumed.output
    again = json.loads(resumed.stdout)
    assert again["run_id"] == run_id and again["status"] == "FINISHED"
    shown = gannet_cli("pipeline", "inspect", run_id)
    assert "total" in shown.stdout and "FINISHED" in shown.stdout

    cached = gannet_cli("pipeline", "run", f"{flow}:train", "-p", "n=4", "--executor", "local")
    assert cached.exit_code == 0
    assert "✓ load FINISHED (cached)" in cached.stdout and "2 steps, 2 cached" in cached.stdout
    fresh = gannet_cli("pipeline", "run", f"{flow}:train", "-p", "n=4", "--no-cache", "--json")
    assert [s["cached"] for s in json.loads(fresh.stdout)["steps"]] == [False, False]


def test_a_parameter_of_the_wrong_type_is_refused(gannet_cli, flow):
    wrong = gannet_cli("pipeline", "run", f"{flow}:train", "--param", "lr=fast")
    assert wrong.exit_code == 3
    assert "parameter 'lr' of pipeline 'train' is float; 'fast' is not one" in wrong.stderr
    assert gannet_cli("pipeline", "run", f"{flow}:train", "--param", "lr").exit_code == 3
    missing = gannet_cli("pipeline", "run", "nowhere.py")
    assert missing.exit_code == 4


SLOW = """
    import pathlib, time
    import gannet

    @gannet.step
    def first() -> int:
        return 1

    @gannet.step
    def slow(x: int) -> int:
        pathlib.Path({started!r}).touch()
        time.sleep(60)
        return x

    @gannet.pipeline
    def slow_flow():
        slow(first())
"""


def test_ctrl_c_ends_the_run_killed_with_its_running_step_stopped(settings, write_flow, tmp_path):
    started = tmp_path / "started"
    flow = write_flow(SLOW.format(started=str(started)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    command = [sys.executable, "-m", "gannet", "--home", str(settings.home), "--metadata-url",
               settings.metadata_url, "--artifacts-url", settings.artifacts_url, "pipeline",
               "run", str(flow), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert started.exists(), process.communicate()
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert b"KILLED" in err

    from gannet import GannetClient

    client = GannetClient(settings)
    try:
        experiment = client.get_experiment_by_name("slow_flow")
        [run] = client.search_runs([experiment.experiment_id],
                                   filter_string="tags.`gannet.pipeline` = 'slow_flow'")
        pipeline_run = client.get_pipeline_run(run.info.run_id)
        assert pipeline_run.status == "KILLED" and run.info.status == "KILLED"
        assert pipeline_run.step("slow").status == "KILLED"
        assert client.get_run(pipeline_run.step("slow").step_run_id).info.status == "KILLED"
    finally:
        client.close()


@pytest.mark.slow  # trains scikit-learn models
def test_a_project_from_the_template_runs_and_registers_only_a_better_model(tmp_path,
                                                                          monkeypatch):
    from typer.testing import CliRunner

    from gannet.cli.app import app

    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    monkeypatch.chdir(tmp_path)
    made = CliRunner().invoke(app, ["init", "--template", "tabular-classification", "proj",
                                    "--json"], env=env)
    assert made.exit_code == 0, made.output
    files = {Path(p).relative_to("proj").as_posix() for p in json.loads(made.stdout)["files"]}
    assert {"pipeline.py", "tests/test_pipeline.py", "gannet.toml",
            ".github/workflows/pipeline.yml"} <= files
    again = CliRunner().invoke(app, ["init", "--template", "tabular-classification", "proj"],
                               env=env)
    assert again.exit_code == 5
    assert CliRunner().invoke(app, ["init", "-t", "nope", "other"], env=env).exit_code == 3

    monkeypatch.chdir(tmp_path / "proj")  # its gannet.toml: its own stores in proj/.gannet
    command = ["pipeline", "run", "pipeline.py", "-p", "model=logreg", "--executor", "local",
               "--json"]
    first = json.loads(CliRunner().invoke(app, command, env=env).stdout)
    assert first["status"] == "FINISHED"
    assert {s["name"]: s["status"] for s in first["steps"]}["register"] == "FINISHED"
    second = json.loads(CliRunner().invoke(app, command, env=env).stdout)
    states = {s["name"]: (s["status"], s["cached"]) for s in second["steps"]}
    assert states["train"] == ("FINISHED", True)
    assert states["register"] == ("SKIPPED", False)  # not better than the champion
    shown = CliRunner().invoke(app, ["models", "show", "classifier@champion", "--json"], env=env)
    assert json.loads(shown.stdout)["version"] == "1"
    table = tmp_path / "proj" / "churn.csv"
    table.write_text("x,churned\n" + "".join(f"{i % 10},{int(i % 10 >= 5)}\n"
                                              for i in range(80)))
    added = CliRunner().invoke(app, ["data", "add", str(table), "--name", "churn"], env=env)
    assert added.exit_code == 0, added.output
    versioned = CliRunner().invoke(app, ["pipeline", "run", "pipeline.py", "-p",
                                         "dataset=churn@1", "-p", "target=churned", "-p",
                                         "registered_name=churner", "--json"], env=env)
    assert json.loads(versioned.stdout)["status"] == "FINISHED", versioned.output
    used = CliRunner().invoke(app, ["lineage", "churn@1", "--json"], env=env)
    contexts = {r["context"] for r in json.loads(used.stdout)["runs"]}
    assert {"pipeline step load_version", "pipeline step train (upstream)"} <= contexts
    model = CliRunner().invoke(app, ["lineage", "churner/1", "--json"], env=env)
    assert [d["dataset_version"] for d in json.loads(model.stdout)["datasets"]] == ["churn@1"]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests"], capture_output=True, text=True, timeout=300)
    assert tests.returncode == 0, tests.stdout


def test_a_pipeline_from_a_git_repository_at_an_exact_commit(gannet_cli, tmp_path, sdk):
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    git("init", "-q")
    source = "import gannet\n\n@gannet.step\ndef answer() -> int:\n    return {}\n\n" \
             "@gannet.pipeline\ndef versioned():\n    answer()\n"
    (repo / "flow.py").write_text(source.format(1))
    git("add", "flow.py")
    git("commit", "-q", "-m", "one")
    first = git("rev-parse", "HEAD")
    (repo / "flow.py").write_text(source.format(2))
    git("commit", "-q", "-am", "two")

    old = gannet_cli("pipeline", "run", "flow.py", "--repo", str(repo), "--rev", first[:10],
                     "--executor", "local", "--json")
    assert old.exit_code == 0, old.output
    run_id = json.loads(old.stdout)["run_id"]
    assert sdk.load_output(run_id, "answer") == 1
    run = sdk.get_run(run_id)
    assert run.info.git_commit == first and run.data.tags["gannet.pipeline.commit"] == first
    new = gannet_cli("pipeline", "run", "flow.py", "--repo", str(repo), "--executor", "local",
                     "--json")
    assert sdk.load_output(json.loads(new.stdout)["run_id"], "answer") == 2
    missing = gannet_cli("pipeline", "run", "flow.py", "--repo", str(repo), "--rev", "deadbeef")
    assert missing.exit_code == 4
    assert "revision 'deadbeef' does not exist in" in missing.stderr
