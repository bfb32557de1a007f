"""Continuous-training pages in a real browser (Chromium driven by Playwright) over real
servers on 127.0.0.1: a policy applied and advanced with ``gannet policy apply`` and
``gannet controller --once`` shows where its loop is, its stages and decisions, and a
chart of the challenger's traffic; Approve moves the loop on, Pause and Resume stop and
start it; a reader is refused both, with the service's words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browsing import accessibility_problems, shoot, watched_page
from capability_world import Cli, write

from gannet.bootstrap import build
from gannet.core.settings import Settings
from gannet.testing.server import running_server

pytestmark = pytest.mark.slow  # a browser, and a retrain run by the controller

TRAIN = """
    import gannet

    @gannet.step
    def train(seed: int):
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = np.random.default_rng(seed).normal(size=(200, 2))
        return LogisticRegression().fit(x, (x[:, 0] + x[:, 1] > 0).astype(int))

    @gannet.pipeline(name="retrain")
    def retrain(seed: int = 1):
        train(seed)
"""

POLICY = """
    name: churn-ct
    model: churn
    deployment: churn-api
    triggers: [{dataset: churn-train}]
    pipeline: {file: train.py:retrain, params: {seed: 3}}
    rollout:
      stages:
        - {weight: 10, guards: {latency_p99_ms: 250}}
        - {weight: 50, approval: required}
        - {weight: 100}
"""
PASSWORDS = {"alice": "alice-password-1", "rita": "rita-password-1", "bob": "bob-password-1"}


@dataclass
class World:
    services: object
    cli: Cli
    open_url: str
    team_url: str


def _rows(seed: int) -> pd.DataFrame:
    x = np.random.default_rng(seed).normal(size=(100, 2))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": (x[:, 0] > 0).astype(int)})


def _champion(services, folder: Path) -> None:
    from sklearn.dummy import DummyClassifier

    from gannet.models.package import save_model

    frame = _rows(1)
    X = frame[["a", "b"]].to_numpy()
    save_model(DummyClassifier().fit(X, frame["y"]), folder, input_example=X[:3])
    services.registry.create_registered_model("churn", "predicts who leaves", project="a")
    services.registry.register_model(folder, "churn")
    services.registry.set_registered_model_alias("churn", "champion", 1)
    services.deployments.create_deployment("churn-api", "churn", {"@champion": 1},
                                           reason="launch")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("training")
    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             metadata_url=f"sqlite:///{root / 'gannet.db'}",
                             capture_environment=False)
    cli = Cli(settings)
    services = build(settings)
    auth = services.auth
    auth.bootstrap_admin()
    auth.create_project("a")
    for name, role in (("alice", "editor"), ("rita", "reader")):
        auth.create_user(name, password=PASSWORDS[name])
        auth.add_member("a", name, role)
    auth.create_user("bob", password=PASSWORDS["bob"])  # a member of no project
    _champion(services, root / "package")
    _rows(2).to_csv(root / "train.csv", index=False)
    cli("data", "add", root / "train.csv", "--name", "churn-train")
    write(root / "train.py", TRAIN)
    cli("policy", "apply", write(root / "policy.yaml", POLICY))
    _rows(3).to_csv(root / "train.csv", index=False)
    cli("data", "add", root / "train.csv", "--name", "churn-train")  # the trigger
    cli("controller", "--once")  # retrain, gate, stage 1 passes, stage 2 awaits approval
    try:
        with running_server(services) as open_url, \
                running_server(services, auth=True) as team_url:
            yield World(services, cli, open_url, team_url)
    finally:
        services.close()


@pytest.fixture
def page(browser, world):
    yield from watched_page(browser, world.open_url, height=900)


@pytest.fixture
def team_page(browser, world):
    yield from watched_page(browser, world.team_url, height=900)


def check(page, shots, name: str) -> None:
    assert accessibility_problems(page) == [], name
    shoot(page, shots, name)


def cells(page, selector: str) -> list[list[str]]:
    rows = page.locator(f"{selector} tbody tr")
    return [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]


def weights(page) -> list[float]:
    """The y values of the challenger's traffic chart, once drawn."""
    page.wait_for_selector("#figure-weight .plot[data-drawn='true']")
    return page.evaluate("document.querySelector('#figure-weight .plot').data[0].y")


def test_policies_are_listed_and_linked(page, shots):
    page.goto("/ui/models/churn")
    page.get_by_role("link", name="Its continuous-training policies").click()
    assert page.locator("h1").inner_text() == "Continuous-training policies of churn"
    assert cells(page, "table.policies") == [
        ["churn-ct", "churn", "churn-api", "awaiting_approval", "2 of 3 (50%)", "no",
         cells(page, "table.policies")[0][6]]]
    page.goto("/ui/deployments/churn-api")
    page.get_by_role("link", name="Its continuous-training policies").click()
    assert [r[0] for r in cells(page, "table.policies")] == ["churn-ct"]
    page.goto("/ui/monitoring")
    page.get_by_role("link", name="Continuous-training policies").click()
    assert page.locator("h1").inner_text() == "Continuous-training policies"
    check(page, shots, "policies")
    page.goto("/ui/policies?model=nothing")
    assert "No continuous-training policy of model nothing" in page.get_by_role(
        "status").inner_text()


def test_a_policy_is_approved_and_promoted(page, world, shots):
    page.goto("/ui/policies")
    page.get_by_role("link", name="churn-ct").click()
    assert page.locator("h1").inner_text() == "Policy churn-ct"
    assert page.locator("dd.phase").inner_text() == "awaiting_approval"
    stages = cells(page, "table.stages")
    assert [s[1] for s in stages] == ["10%", "50%", "100%"]
    assert stages[0][6] == "latency_p99_ms 250" and stages[1][5] == "required"
    assert page.locator("table.stages tr[aria-current='step'] td").first.inner_text() == "2"
    actions = [r[1] for r in cells(page, "table.decisions")]
    assert actions == ["wait", "canary", "gate", "retrain", "trigger"]
    reasons = " ".join(r[2] for r in cells(page, "table.decisions"))
    assert "stage 2 of 3 (50%) needs approval" in reasons and "churn/2" in reasons
    assert "weight: 10" in cells(page, "table.decisions")[1][3]
    assert weights(page) == [0, 10]
    assert "approval: required" in page.locator("pre.yaml").inner_text()
    check(page, shots, "policy-awaiting-approval")

    page.get_by_label("Comment").fill("the canary looks fine")
    page.get_by_role("button", name="Approve stage 2").click()
    assert "Stage approved" in page.get_by_role("status").inner_text()
    assert page.locator("dd.phase").inner_text() == "canary"
    first = cells(page, "table.decisions")[0]
    assert first[1] == "approve" and "the canary looks fine" in first[2]
    assert page.get_by_role("button", name="Approve stage 2").count() == 0

    world.cli("controller", "--once")  # stage 2 and 3 pass at once: promoted
    page.reload()
    assert page.locator("dd.phase").inner_text() == "promoted"
    assert weights(page) == [0, 10, 50, 100, 100]
    assert cells(page, "table.decisions")[0][1] == "promote"
    assert world.services.registry.get_registered_model("churn").aliases["champion"] == 2
    check(page, shots, "policy")


def log_in(page, user: str) -> None:
    page.goto("/ui/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Log in").click()


def test_pause_and_resume_with_roles(team_page, world, shots):
    page = team_page
    log_in(page, "rita")  # a reader: sees the policy, may not pause it
    page.goto("/ui/policies/churn-ct")
    page.get_by_role("button", name="Pause").click()
    assert page.locator("h1").inner_text() == "Not allowed"
    assert "Your role does not allow this" in page.get_by_role("alert").inner_text()
    shoot(page, shots, "policy-reader-denied")
    assert world.services.training.get_policy_status("churn-ct").paused is False
    page.get_by_role("button", name="Log out").click()

    log_in(page, "alice")  # an editor
    page.goto("/ui/policies/churn-ct")
    page.get_by_role("button", name="Pause").click()
    assert "Paused" in page.get_by_role("status").inner_text()
    assert "(paused)" in page.locator("dd.phase").inner_text()
    assert world.services.training.get_policy_status("churn-ct").paused is True
    page.goto("/ui/policies")
    assert cells(page, "table.policies")[0][5] == "paused"
    page.goto("/ui/policies/churn-ct")
    page.get_by_role("button", name="Resume").click()
    assert "Resumed" in page.get_by_role("status").inner_text()
    assert world.services.training.get_policy_status("churn-ct").paused is False


def test_someone_outside_the_project_does_not_see_the_policy(team_page):
    page = team_page
    log_in(page, "bob")
    page.goto("/ui/policies")
    assert page.locator("table.policies").count() == 0
    assert "No continuous-training policy" in page.get_by_role("status").inner_text()
    answer = page.goto("/ui/policies/churn-ct")
    assert answer.status == 404
    assert "churn-ct" in page.get_by_role("alert").inner_text()
