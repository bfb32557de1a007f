"""The pages of datasets, pipelines, features and monitoring in a real browser (Chromium
driven by Playwright) over real servers on 127.0.0.1, with data made by ``gannet``
commands: each page shows what was made (names, numbers, charts drawn), without console
errors and with the accessible markup every page has; a pipeline run is followed live;
in a team, someone outside a project does not see its pipeline runs or monitors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from browsing import Console, accessibility_problems, shoot
from capability_world import Cli, make_datasets, make_features, make_monitor, make_pipelines

from gannet.bootstrap import build
from gannet.core.settings import Settings
from gannet.testing.server import running_server

pytestmark = pytest.mark.slow  # a browser, and pipelines run by the CLI


@dataclass
class World:
    services: object
    cli: Cli
    open_url: str
    team_url: str
    slow_flow: str
    flag: object
    flow: str


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("capabilities")
    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             metadata_url=f"sqlite:///{root / 'gannet.db'}",
                             capture_environment=False)
    cli = Cli(settings)
    make_datasets(cli, root)
    slow = make_pipelines(cli, root)
    make_features(cli, root)
    make_monitor(cli, root, settings.home / "inference-log")
    services = build(settings)
    services.auth.bootstrap_admin()
    services.auth.create_user("bob", password="bob-password-1")  # a member of no project
    services.auth.create_user("rita", password="rita-password-1")
    if "default" not in {p.name for p in services.auth.list_projects()}:
        services.auth.create_project("default")
    services.auth.add_member("default", "rita", "reader")  # where the pipelines ran
    run = services.tracking.create_run(services.tracking.create_experiment("churn"),
                                       run_name="train-on-february")
    services.data.log_input(run.info.run_id, "customers@2", "training")
    try:
        with running_server(services) as open_url, \
                running_server(services, auth=True) as team_url:
            yield World(services, cli, open_url, team_url, str(slow), root / "go",
                        str(root / "flow.py"))
    finally:
        services.close()


@pytest.fixture(scope="module")
def context(browser, world):
    context = browser.new_context(base_url=world.open_url,
                                  viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    console = Console(page)
    yield page
    page.close()
    assert console.errors == []


def check(page, shots, name: str) -> None:
    """The page's markup is accessible, and its screenshot is saved."""
    assert page.locator("h1").count() == 1
    assert accessibility_problems(page) == [], name
    shoot(page, shots, name)


def cells(page, selector: str) -> list[list[str]]:
    rows = page.locator(f"{selector} tbody tr")
    return [rows.nth(i).locator("td, th").all_inner_texts() for i in range(rows.count())]


def test_datasets_search_versions_and_diff(page, shots):
    page.goto("/ui/data")
    rows = cells(page, "table.datasets")
    assert [r[0] for r in rows] == ["customers", "prices"]
    assert rows[0][1:4] == ["Customers and their plans", "growth", "customers@2"]
    (view,) = cells(page, "table.catalogue-views")  # feature views are in the catalogue
    assert view[0] == "churn_stats (v1)" and view[2:4] == ["growth", "orders_30d, spend_30d"]
    assert view[5] == "none recorded"
    check(page, shots, "datasets")
    page.get_by_label("Column", exact=True).fill("region")
    page.get_by_role("button", name="Search").click()
    assert [r[0] for r in cells(page, "table.datasets")] == ["customers"]
    assert "column=region" in page.url  # a deep link
    page.goto("/ui/data?owner=nobody")
    assert "No dataset matches" in page.get_by_role("status").inner_text()

    page.goto("/ui/data")
    page.get_by_role("link", name="customers", exact=True).click()
    assert page.locator("h1").inner_text() == "Dataset customers"
    versions = cells(page, "table.versions")
    assert [(v[0], v[6]) for v in versions] == [("customers@2", "February"),
                                                ("customers@1", "January")]
    assert "region" in versions[0][5] and "region" not in versions[1][5]
    check(page, shots, "dataset")
    page.get_by_role("button", name="Compare").click()
    assert page.locator("h1").inner_text() == "customers: version 1 against 2"
    facts = page.locator("main dl").inner_text()
    assert "3 → 5" in facts and "region" in facts
    check(page, shots, "dataset-diff")


def test_a_dataset_version_profile_validation_and_usage(page, shots):
    page.goto("/ui/data/customers/versions/2")
    assert [r[0] for r in cells(page, "table.files")] == ["customers.parquet"]
    profile = {r[0]: r for r in cells(page, "table.profile")}
    assert set(profile) == {"customer_id", "tenure", "plan", "region"}
    assert profile["tenure"][2] == "numeric" and profile["tenure"][7] == "40"
    assert "5 rows, 4 columns" in page.locator("main").inner_text()
    page.wait_for_selector("figure[data-column=tenure] .plot[data-drawn=true]")
    page.wait_for_selector("figure[data-column=plan] .plot[data-drawn=true]")
    bars = page.evaluate("document.querySelector('figure[data-column=plan] .plot').data[0]")
    assert dict(zip(bars["x"], bars["y"], strict=True)) == {"pro": 2, "basic": 2, "plus": 1}
    validation = cells(page, "table.validations")
    assert len(validation) == 1 and validation[0][2] == "failed"
    assert "✗ between(tenure)" in validation[0][4] and "✓ not_null(customer_id)" in \
        validation[0][4]
    page.locator("table.validations").screenshot(path=str(shots / "validations.png"))
    usage = cells(page, "table.usage")
    assert [(u[0], u[2]) for u in usage] == [("train-on-february", "training")]
    check(page, shots, "dataset-version")
    page.get_by_role("link", name="train-on-february").click()
    assert page.locator("h1").inner_text() == "Run train-on-february"


def test_pipeline_runs_steps_cache_and_logs(page, world, shots):
    page.goto("/ui/pipelines?pipeline=train")
    runs = cells(page, "table.pipeline-runs")
    assert [(r[1], r[2]) for r in runs[:2]] == [("train", "FINISHED")] * 2
    page.goto("/ui/pipelines")
    schedule = cells(page, "table.schedules")
    assert len(schedule) == 1 and "cron 0 3 * * *" in schedule[0][2]
    assert schedule[0][3] == "n=9" and schedule[0][5] == "never"
    check(page, shots, "pipelines")

    oldest = page.locator("table.pipeline-runs tbody tr", has_text="train").last
    oldest.get_by_role("link").first.click()
    steps = cells(page, "table.steps")
    assert [(s[0], s[1], s[2], s[5]) for s in steps] == [
        ("load", "FINISHED", "miss", ""), ("fit", "FINISHED", "miss", "load"),
        ("report", "FINISHED", "miss", "fit")]
    assert all(s[3].endswith(" s") for s in steps)
    assert page.locator("svg.dag g.step[data-status=FINISHED]").count() == 3
    assert page.locator("svg.dag line").count() == 2
    page.locator("summary", has_text="load:").click()
    assert "loaded 4 rows of customers@1" in page.locator(
        "pre[data-log='load/stdout.txt']").inner_text()
    assert "n=4" in page.locator("main dl").inner_text()
    check(page, shots, "pipeline-run")

    page.goto("/ui/pipelines?pipeline=train")
    page.locator("table.pipeline-runs tbody tr").first.get_by_role("link").first.click()
    assert [s[1:3] for s in cells(page, "table.steps")] == [["FINISHED (cached)", "hit"]] * 3
    page.get_by_role("link", name="Its tracking run").click()
    page.get_by_role("link", name="Its pipeline run").click()  # and back
    assert page.locator("h1").inner_text() == "Pipeline run train"


def test_a_running_pipeline_is_followed_live(page, world, shots):
    runner = world.cli.spawn("pipeline", "run", world.slow_flow, "--executor", "local")
    try:
        page.goto("/ui/pipelines?pipeline=slow")
        for _ in range(100):
            if page.locator("table.pipeline-runs tbody tr").count():
                break
            page.wait_for_timeout(200)
            page.reload()
        page.locator("table.pipeline-runs tbody tr").first.get_by_role("link").first.click()
        page.wait_for_selector("tr[data-step=wait][data-status=RUNNING]")
        assert page.locator("tr[data-step=after]").get_attribute("data-status") == "PENDING"
        assert page.locator("#run-status").inner_text() == "RUNNING"
        shoot(page, shots, "pipeline-running")
        world.flag.write_text("go")
        page.wait_for_function(
            "document.getElementById('run-status').textContent === 'FINISHED'", timeout=60_000)
        page.wait_for_selector("tr[data-step=after][data-status=FINISHED]")
        assert runner.wait(timeout=60) == 0, runner.stderr.read() if runner.stderr else ""
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.wait()
        if runner.stderr:
            runner.stderr.close()


def test_launch_a_pipeline_and_watch_it(page, world, shots):
    page.goto("/ui/pipelines")
    page.get_by_role("link", name="Launch a pipeline").click()
    page.get_by_label("Pipeline file").select_option(label=f"{world.flow}")
    page.get_by_role("button", name="Choose").click()
    assert page.get_by_label("n (int)").input_value() == "3"
    assert page.locator("#dataset-versions option").evaluate_all(
        "options => options.map(o => o.value)") == ["customers@2", "customers@1",
                                                    "prices@1"]
    page.get_by_label("n (int)").fill("6")
    page.get_by_label("data (str)").fill("customers@2")
    page.get_by_label("Executor").select_option("local")
    check(page, shots, "pipeline-launch")
    page.get_by_role("button", name="Run it").click()
    assert "/ui/pipelines/runs/" in page.url
    page.wait_for_function(
        "document.getElementById('run-status').textContent === 'FINISHED'", timeout=60_000)
    assert "data=customers@2, lr=0.5, n=6" in page.locator("main dl").inner_text()
    page.locator("summary", has_text="load:").click()
    assert "loaded 6 rows of customers@2" in page.locator(
        "pre[data-log='load/stdout.txt']").inner_text()

    page.goto("/ui/pipelines/launch?target=" + world.flow)
    page.get_by_label("n (int)").fill("many")
    page.get_by_role("button", name="Run it").click()
    assert page.locator("h1").inner_text() == "Something is wrong"
    assert "parameter 'n' of pipeline 'train' is int; 'many' is not one" in \
        page.get_by_role("alert").inner_text()
    answer = page.goto("/ui/pipelines/launch?target=/etc/passwd")
    assert answer.status == 404 and "has run on this server" in page.get_by_role(
        "alert").inner_text()


def test_a_tag_cannot_make_a_file_launchable(page, world, tmp_path):
    """Anyone who may log to a run may tag it as a pipeline run of any file: the file is
    still neither offered nor loaded (it would run its code on the server)."""
    marker = tmp_path / "imported"
    evil = tmp_path / "evil.py"
    evil.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n")
    tracking = world.services.tracking
    tracking.create_run(tracking.create_experiment("forged"), run_name="forged", tags={
        "gannet.pipeline": "evil", "gannet.pipeline.target": str(evil)})
    page.goto("/ui/pipelines/launch")
    offered = page.get_by_label("Pipeline file").locator("option").all_inner_texts()
    assert world.flow in offered and str(evil) not in offered
    assert page.goto(f"/ui/pipelines/launch?target={evil}").status == 404
    assert not marker.exists()


def test_feature_views_and_entities(page, shots):
    page.goto("/ui/features")
    views = cells(page, "table.feature-views")
    assert len(views) == 1
    name, entities, features, source, ttl, owner, freshness, version = views[0]
    assert (name, entities, ttl, owner, version) == ("churn_stats", "customer", "30.0 d",
                                                     "growth", "1")
    assert features == "2: orders_30d, spend_30d" and source.endswith("churn_stats.parquet")
    assert re.fullmatch(r"newest value 7\.\d d old", freshness), freshness
    assert cells(page, "table.entities")[0][:3] == ["customer", "customer_id",
                                                     "someone who pays"]
    check(page, shots, "features")
    page.get_by_role("link", name="churn_stats").click()
    schema = {r[0]: r[1] for r in cells(page, "table.feature-schema")}
    assert schema == {"orders_30d": "BIGINT", "spend_30d": "DOUBLE"}
    assert "None recorded. A model version uses a view" in page.locator("main").inner_text()
    check(page, shots, "feature-view")
    page.locator("main dl").get_by_role("link", name="customer").click()
    assert page.locator("h1").inner_text() == "Entity customer"
    assert page.get_by_role("link", name="churn_stats").count() == 1
    check(page, shots, "entity")


def test_monitors_reports_and_alerts(page, world, shots):
    page.goto("/ui/monitoring")
    monitor = cells(page, "table.monitors")[0]
    assert monitor[:3] == ["churn-api", "churn-api", "hour"] and monitor[5] == "drift"
    assert float(monitor[6]) >= 0.5 and set(monitor[7].split(", ")) == {"plan", "tenure"}
    rule = cells(page, "table.alert-rules")[0]
    assert rule[:5] == ["drifting", "drift.share >= 0.5", "warning", "churn-api", "firing"]
    events = cells(page, "table.alert-events")
    assert [(e[1], e[2], e[3]) for e in events] == [("drifting", "churn-api", "firing")]
    page.locator("table.alert-events").screenshot(path=str(shots / "alert-events.png"))
    check(page, shots, "monitoring")

    page.get_by_role("link", name="churn-api").first.click()
    for key in ("drift-share", "feature-drift"):
        page.wait_for_selector(f"#figure-{key} .plot[data-drawn=true]")
    share = page.evaluate("document.querySelector('#figure-drift-share .plot').data")
    assert share[0]["y"][0] < 0.5 <= share[0]["y"][1]  # the second hour drifted
    assert share[1]["name"] == "threshold" and share[1]["y"] == [0.5, 0.5]
    features = page.evaluate("document.querySelector('#figure-feature-drift .plot').data")
    assert sorted(t["name"].split()[0] for t in features) == ["plan", "tenure"]
    windows = cells(page, "table.reports")
    assert [w[2] for w in windows] == ["drift", "ok"] and [w[1] for w in windows] == ["200"] * 2
    assert page.locator("iframe.report").get_attribute("sandbox") == "allow-scripts"
    report = page.frame_locator("iframe.report")
    report.locator(".plotly-graph-div .main-svg").first.wait_for()  # its scripts ran
    page.locator("iframe.report").screenshot(path=str(shots / "monitor-report.png"))
    check(page, shots, "monitor")
    with httpx.Client(base_url=world.open_url, timeout=60) as client:
        report = client.get("/ui/monitoring/churn-api/report")
    assert report.status_code == 200 and "Over time" in report.text
    assert "sandbox allow-scripts" in report.headers["content-security-policy"]


def test_someone_outside_the_project_sees_no_runs_or_monitors(browser, world, shots):
    context = browser.new_context(base_url=world.team_url)
    page = context.new_page()
    console = Console(page)
    try:
        page.goto("/ui/pipelines")
        page.get_by_label("User").fill("bob")
        page.get_by_label("Password").fill("bob-password-1")
        page.get_by_role("button", name="Log in").click()
        assert page.url.endswith("/ui/pipelines")
        assert "No pipeline run yet" in page.locator("main").inner_text()
        run_id = world.services.tracking.search_runs(
            [world.services.tracking.get_experiment_by_name("train").experiment_id]
        ).items[0].info.run_id
        answer = page.goto(f"/ui/pipelines/runs/{run_id}")
        assert answer.status == 404 and page.get_by_role("alert").is_visible()
        page.goto("/ui/pipelines/launch?target=" + world.flow)  # offered: it is scheduled
        page.get_by_role("button", name="Run it").click()
        refused = page.get_by_role("alert").inner_text()  # tracking's refusal, as for the API
        assert "no project named 'default'" in refused
        # monitors and datasets belong to no project: reading them takes a role in some
        # project, as through the API; bob has none
        for path in ("/ui/monitoring", "/ui/monitoring/churn-api", "/ui/data"):
            assert page.goto(path).status == 403, path
            assert "reader role in some project" in page.get_by_role("alert").inner_text()
    finally:
        context.close()
    assert console.errors == []


def test_a_reader_may_watch_but_not_launch(browser, world):
    context = browser.new_context(base_url=world.team_url)
    page = context.new_page()
    console = Console(page)
    try:
        page.goto("/ui/pipelines/launch")
        page.get_by_label("User").fill("rita")
        page.get_by_label("Password").fill("rita-password-1")
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Pipeline file").select_option(label=world.flow)
        page.get_by_role("button", name="Choose").click()
        runs = world.services.tracking.search_runs(
            [world.services.tracking.get_experiment_by_name("train").experiment_id])
        page.get_by_role("button", name="Run it").click()
        assert page.locator("h1").inner_text() == "Not allowed"
        assert "Your role does not allow this" in page.get_by_role("alert").inner_text()
        after = world.services.tracking.search_runs(
            [world.services.tracking.get_experiment_by_name("train").experiment_id])
        assert len(after.items) == len(runs.items)  # nothing ran
    finally:
        context.close()
    assert console.errors == []
