"""Each run records the environment it ran in: Python, platform, packages, git state."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from gannet.tracking import environment


@pytest.fixture
def sdk(sdk_anywhere):
    """Every test here runs embedded and through a team server."""
    return sdk_anywhere


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


def test_run_records_python_packages_and_a_dirty_git_tree(sdk, tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "train.py").write_text("print('v1')\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-qm", "first")
    (repo / "train.py").write_text("print('v2')\n")
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()

    env = environment.capture(repo)
    client = sdk.get_client()
    run = client.create_run("0", environment=env)

    stored = sdk.get_run(run.run_id)
    tags = stored.data.tags
    assert tags["gannet.python"] == ".".join(map(str, sys.version_info[:3]))
    assert tags["gannet.git.commit"] == commit == stored.info.git_commit
    assert tags["gannet.git.dirty"] == "true"
    assert tags["gannet.packages.digest"].startswith("blake3:")
    requirements = client.read_artifact(run.run_id, "environment/requirements.txt").decode()
    assert "SQLAlchemy==" in requirements or "sqlalchemy==" in requirements.lower()
    diff = client.read_artifact(run.run_id, "environment/git.diff").decode()
    assert "-print('v1')" in diff
    assert "+print('v2')" in diff


def test_a_clean_tree_has_no_diff_and_no_git_is_fine(tmp_path: Path):
    repo = tmp_path / "clean"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    _git(repo, "add", "a.py")
    _git(repo, "commit", "-qm", "c")
    env = environment.capture(repo)
    assert env.git is not None
    assert env.git.dirty is False
    assert "environment/git.diff" not in env.files()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert environment.capture(plain).git is None


def _held_capture(monkeypatch):
    """Make the process's environment capture wait for the returned event."""
    release = threading.Event()
    real = environment._capture.__wrapped__

    def capture(folder: str) -> environment.Environment:
        assert release.wait(30), "the test never released the capture"
        return real(folder)

    monkeypatch.setattr(environment, "_capture", capture)
    monkeypatch.setattr(environment, "_futures", {})
    return release


def test_start_run_does_not_wait_for_the_environment_and_the_run_still_records_it(
    sdk, monkeypatch, tmp_path: Path
):
    release = _held_capture(monkeypatch)
    run = sdk.start_run(tags={"gannet.python": "mine, replaced as before"})
    sdk.log_metric("loss", 0.5)
    sdk.set_tag("after", "start")
    future = environment.capture_soon(environment.source_of_main()[1])
    assert not future.done()  # start_run and log_metric returned while it was held
    release.set()
    expected = future.result()
    assert run.info.git_commit == (expected.git.commit if expected.git else None)
    sdk.end_run()

    stored = sdk.get_run(run.info.run_id)
    assert stored.info.git_commit == run.info.git_commit
    assert {k: stored.data.tags[k] for k in expected.tags()} == expected.tags()
    assert stored.data.tags["after"] == "start"
    assert stored.data.metrics == {"loss": 0.5}
    client = sdk.get_client()
    requirements = client.read_artifact(run.info.run_id, "environment/requirements.txt")
    assert requirements.decode() == expected.packages


def test_end_run_does_not_wait_and_a_later_tag_still_wins_over_the_environment(
    sdk, monkeypatch
):
    release = _held_capture(monkeypatch)
    run = sdk.start_run()
    sdk.log_metric("m", 2.0)
    sdk.set_tag("gannet.platform", "set by the script")
    sdk.set_tag("mine", "x")
    sdk.end_run()  # the capture is still held: the run ends, its tags wait behind it
    client = sdk.get_client()
    client.flush(wait_for_environment=False)
    release.set()
    stored = sdk.get_run(run.info.run_id)  # reads wait for the environment
    assert stored.info.status == "FINISHED"
    assert stored.data.metrics == {"m": 2.0}
    assert stored.data.tags["gannet.platform"] == "set by the script"
    assert stored.data.tags["mine"] == "x"
    assert "gannet.packages.digest" in stored.data.tags


def test_a_script_that_exits_right_after_its_run_records_the_environment(
    sdk, settings, tmp_path: Path
):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    script = repo / "train.py"
    script.write_text(textwrap.dedent("""
        import time
        import gannet
        from gannet.tracking import environment

        real = environment._capture
        def slow(folder):  # the capture is still running when the script ends
            time.sleep(0.5)
            return real(folder)
        environment._capture = slow

        gannet.set_experiment("short")
        gannet.start_run()
        gannet.log_metric("m", 1.0)
    """))
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-qm", "first")
    env = {
        **os.environ,
        "GANNET_HOME": str(settings.home),
        "GANNET_METADATA_URL": settings.metadata_url,
    }
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=120)

    (run,) = sdk.search_runs(experiment_names=["short"])
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert run.info.status == "FINISHED"
    assert run.info.git_commit == commit == run.data.tags["gannet.git.commit"]
    assert run.data.tags["gannet.git.dirty"] == "false"
    assert run.data.tags["gannet.packages.digest"].startswith("blake3:")
    assert run.data.metrics == {"m": 1.0}
    paths = [f.path for f in sdk.list_artifacts(run.info.run_id, "environment")]
    assert paths == ["environment/requirements.txt"]
