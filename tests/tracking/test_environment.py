"""Each run records the environment it ran in: Python, platform, packages, git state."""

import subprocess
import sys
from pathlib import Path

from gannet.tracking import environment


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
