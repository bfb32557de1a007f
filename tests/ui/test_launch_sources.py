"""The launch form's other sources in a real browser over a real server on 127.0.0.1: a
file of a local git repository at a commit (the run runs that commit's code, not the
newest, and records the commit), and a project template (``gannet init --template``). A
repository the ``ui_launch_repositories`` setting does not allow, or a path out of the
checkout, is refused before anything is cloned or run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browsing import accessibility_problems, shoot, watched_page

from gannet.bootstrap import build
from gannet.core.settings import Settings
from gannet.testing.server import running_server

pytestmark = pytest.mark.slow  # a browser, and pipelines run

FLOW = '''import gannet


@gannet.step
def answer(times: int) -> int:
    print(f"the answer is {VALUE * times}")
    return VALUE * times


@gannet.pipeline
def versioned(times: int = 1):
    answer(times)


VALUE = '''


@dataclass
class World:
    services: object
    url: str
    settings: Settings
    repo: Path
    commits: list[str]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def make_repo(repo: Path) -> list[str]:
    """flows/versioned.py answering 1, then 2: the two commits."""
    (repo / "flows").mkdir(parents=True)
    git(repo, "init", "-q")
    commits = []
    for value in (1, 2):
        (repo / "flows" / "versioned.py").write_text(FLOW + f"{value}\n")
        git(repo, "add", "flows")
        git(repo, "commit", "-q", "-m", f"answer {value}")
        commits.append(git(repo, "rev-parse", "HEAD"))
    return commits


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("launch")
    repo = root / "repos" / "flows"
    commits = make_repo(repo)
    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             metadata_url=f"sqlite:///{root / 'gannet.db'}",
                             capture_environment=False,
                             ui_launch_repositories=f"{root / 'repos'}/")
    services = build(settings)
    try:
        with running_server(services) as url:
            yield World(services, url, settings, repo, commits)
    finally:
        services.close()


@pytest.fixture
def page(browser, world):
    yield from watched_page(browser, world.url)


def finished(page) -> str:
    assert "/ui/pipelines/runs/" in page.url
    page.wait_for_function(
        "document.getElementById('run-status').textContent === 'FINISHED'", timeout=120_000)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_launch_a_pipeline_of_a_git_repository_at_a_commit(page, world, shots):
    first, newest = world.commits
    page.goto("/ui/pipelines/launch")
    page.get_by_label("Repository URL").fill(str(world.repo))
    page.get_by_label("Commit (or tag, branch)").fill(first[:10])  # a short sha is resolved
    page.get_by_label("Path of the pipeline in the repository").fill("flows/versioned.py")
    page.get_by_role("button", name="Use this commit").click()
    assert f"flows/versioned.py of {world.repo} at commit {first}" in page.locator(
        ".chosen").inner_text()
    page.get_by_label("times (int)").fill("21")
    page.get_by_label("Executor").select_option("local")
    assert accessibility_problems(page) == []
    shoot(page, shots, "pipeline-launch-repo")
    page.get_by_role("button", name="Run it").click()
    run_id = finished(page)
    page.locator("summary", has_text="answer:").click()
    assert "the answer is 21" in page.locator("pre[data-log='answer/stdout.txt']").inner_text()
    run = world.services.tracking.get_run(run_id)
    assert run.data.tags["gannet.pipeline.commit"] == first != newest
    assert run.data.tags["gannet.pipeline.repo"] == str(world.repo)

    page.goto(f"/ui/pipelines/launch?repo={world.repo}&file=flows/versioned.py")  # HEAD
    assert f"at commit {newest}" in page.locator(".chosen").inner_text()


@pytest.mark.parametrize(("query", "status", "said"), [
    ("repo=/etc&file=flows/versioned.py", 403, "may not be launched from this server"),
    ("repo={repo}&file=../../../evil.py", 400, "is not a .py file inside the repository"),
    ("repo={repo}&file=/etc/evil.py", 400, "is not a .py file inside the repository"),
    ("repo={repo}&rev=nothing&file=flows/versioned.py", 404, "revision 'nothing' does not"),
    ("repo={repo}&file=flows/gone.py", 404, "has no file 'flows/gone.py' at commit"),
    ("template=nope", 400, "no project template 'nope'"),
])
def test_what_a_launch_refuses(page, world, query, status, said):
    answer = page.goto("/ui/pipelines/launch?" + query.format(repo=world.repo))
    assert answer.status == status
    assert said in page.get_by_role("alert").inner_text()


def test_launch_a_project_template(page, world, shots, monkeypatch):
    s = world.settings  # the template's steps open a client: the server's stores
    monkeypatch.setenv("GANNET_HOME", str(s.home))
    monkeypatch.setenv("GANNET_METADATA_URL", s.metadata_url)
    monkeypatch.setenv("GANNET_ARTIFACTS_URL", s.artifacts_url)
    page.goto("/ui/pipelines/launch")
    page.get_by_label("Template", exact=True).select_option("tabular-classification")
    page.get_by_role("button", name="Use this template").click()
    assert "Runs template tabular-classification" in page.locator(".chosen").inner_text()
    assert page.get_by_label("dataset (str)").input_value() == "builtin:breast_cancer"
    page.get_by_label("model (str)").fill("logreg")
    page.get_by_label("registered_name (str)").fill("from-template")
    page.get_by_label("Executor").select_option("local")
    page.get_by_role("button", name="Run it").click()
    finished(page)
    assert world.services.registry.get_model_version_by_alias(
        "from-template", "champion").version == 1
