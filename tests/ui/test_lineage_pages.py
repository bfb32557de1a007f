"""Lineage in the web UI, in a real browser (Chromium driven by Playwright) over real
servers on 127.0.0.1: a run that logged a dataset version as its input shows it, with its
context, and the model version registered from it; that version's page shows the run it
came from and the dataset versions the run used, each a link to its page (what ``gannet
lineage runs:/ID`` and ``gannet lineage MODEL/VERSION`` answer). A run with no input says
so. In a team, a reader of the project sees the lineage; someone outside it does not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest
from browsing import accessibility_problems, watched_page
from stores import fresh_services

from gannet.testing.server import running_server

pytestmark = pytest.mark.slow  # a browser

PASSWORDS = {"rita": "rita-password-1", "bob": "bob-password-1"}


@dataclass(frozen=True)
class World:
    services: object
    trained: str  # a run that used two dataset versions; churn-lineage/1 was registered from it
    bare: str  # a run that recorded no input
    open_url: str
    team_url: str


def _seed(services) -> tuple[str, str]:
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"tenure": [1, 5, 9, 14, 30, 2], "churned": [1, 1, 0, 0, 0, 1]})
    data = services.data
    data.add_table(frame, "customers-2026", message="January")
    data.add_table(frame.assign(plan=["a", "b", "a", "b", "a", "b"]), "customers-2026",
                   message="February")
    data.add_table(frame.tail(3), "holdout")
    tracking = services.tracking
    experiment = tracking.create_experiment("lineage", project="a")
    run_id = tracking.create_run(experiment, run_name="train-on-february").info.run_id
    data.log_input(run_id, "customers-2026@2", "training")
    data.log_input(run_id, "holdout@1", "evaluation")
    model = LogisticRegression().fit(frame[["tenure"]], frame["churned"])
    services.registry.log_model(run_id, model, "model", input_example=frame[["tenure"]].head(2))
    services.registry.create_registered_model("churn-lineage", project="a")
    services.registry.register_model(run_id, "churn-lineage")
    tracking.update_run(run_id, status="FINISHED")
    bare = tracking.create_run(experiment, run_name="no-inputs").info.run_id
    return run_id, bare


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("lineage")
    services = fresh_services(root)
    auth = services.auth
    for name, password in PASSWORDS.items():
        auth.create_user(name, password=password)
    auth.create_project("a")
    auth.add_member("a", "rita", "reader")  # bob is a member of no project
    trained, bare = _seed(services)
    try:
        with running_server(services) as open_url, \
                running_server(services, auth=True) as team_url:
            yield World(services, trained, bare, open_url, team_url)
    finally:
        services.close()


@pytest.fixture
def page(browser, world):
    yield from watched_page(browser, world.open_url)


def links(page, selector: str) -> dict[str, str]:
    """Text -> href of the links inside ``selector``."""
    found = page.locator(f"{selector} a")
    return {found.nth(i).inner_text(): found.nth(i).get_attribute("href")
            for i in range(found.count())}


def test_a_run_shows_its_inputs_and_the_model_versions_made_from_it(page, world, shots):
    page.goto(f"/ui/runs/{world.trained}")
    rows = page.locator("table.run-inputs tbody tr")
    assert [rows.nth(i).locator("td").all_inner_texts()[:2] for i in range(rows.count())] == [
        ["customers-2026@2", "training"], ["holdout@1", "evaluation"]]
    assert links(page, "table.run-inputs") == {
        "customers-2026@2": "/ui/data/customers-2026/versions/2",
        "holdout@1": "/ui/data/holdout/versions/1"}
    assert links(page, "p.run-models") == {
        "churn-lineage/1": "/ui/models/churn-lineage/versions/1"}
    assert accessibility_problems(page) == []
    page.locator("section[aria-labelledby=lineage]").screenshot(
        path=str(shots / "run-lineage.png"))

    page.get_by_role("link", name="customers-2026@2").click()
    assert page.locator("h1").inner_text() == "Dataset version customers-2026@2"
    page.go_back()
    page.get_by_role("link", name="churn-lineage/1").click()
    assert page.locator("h1").inner_text() == "churn-lineage version 1"

    page.goto(f"/ui/runs/{world.bare}")
    section = page.locator("section[aria-labelledby=lineage]").inner_text()
    assert "No inputs recorded" in section
    assert "No model version registered from this run" in section
    assert page.locator("table.run-inputs").count() == 0


def test_a_model_version_shows_its_run_and_the_dataset_versions_it_used(page, world, shots):
    page.goto("/ui/models/churn-lineage/versions/1")
    assert links(page, "p.version-runs") == {world.trained: f"/ui/runs/{world.trained}"}
    assert links(page, "table.version-inputs") == {
        "customers-2026@2": "/ui/data/customers-2026/versions/2",
        "holdout@1": "/ui/data/holdout/versions/1",
        world.trained[:12]: f"/ui/runs/{world.trained}"}
    contexts = page.locator("table.version-inputs tbody td:nth-child(2)").all_inner_texts()
    assert contexts == ["training", "evaluation"]
    graph = page.locator("svg.lineage-graph")  # datasets -> run -> this version, as a graph
    nodes = {a.get_attribute("data-kind") + " " + a.locator("text.name").text_content():
             a.get_attribute("href") for a in graph.locator("a").all()}
    assert nodes == {
        "dataset customers-2026@2": "/ui/data/customers-2026/versions/2",
        "dataset holdout@1": "/ui/data/holdout/versions/1",
        f"run {world.trained[:22]}": f"/ui/runs/{world.trained}",
        "model churn-lineage/1": "/ui/models/churn-lineage/versions/1"}
    assert graph.locator("line").count() == 3  # two datasets into the run, the run into it
    assert accessibility_problems(page) == []
    page.locator("section[aria-labelledby=lineage]").screenshot(
        path=str(shots / "version-lineage.png"))
    page.locator("p.version-runs").get_by_role("link").click()
    assert page.locator("h1").inner_text() == "Run train-on-february"
    # the dataset version's own page lists the model version trained on it: both ways
    page.goto("/ui/data/holdout/versions/1")
    assert page.get_by_role("link", name="churn-lineage/1").get_attribute("href") == \
        "/ui/models/churn-lineage/versions/1"


def test_in_a_team_a_reader_sees_the_lineage_and_an_outsider_does_not(browser, world):
    for user, status in (("rita", 200), ("bob", 404)):
        for shown in watched_page(browser, world.team_url):
            shown.goto("/ui/login")
            shown.get_by_label("User").fill(user)
            shown.get_by_label("Password").fill(PASSWORDS[user])
            shown.get_by_role("button", name="Log in").click()
            for path in (f"/ui/runs/{world.trained}", "/ui/models/churn-lineage/versions/1"):
                answer = shown.goto(path)
                assert answer.status == status, (user, path)
                text = shown.locator("main").inner_text()
                assert ("customers-2026@2" in text) == (status == 200), (user, path)
