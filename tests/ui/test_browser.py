"""The web UI in a real browser (Chromium, driven by Playwright) over real servers on
127.0.0.1: every page renders without console errors and the key interactions work:
filter, sort and choose columns; compare runs; preview artifacts; promote (gates first);
roll back; log in and out; a reader denied an action. Each page's screenshot is saved."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from browsing import Console, accessibility_problems, axe_violations, shoot, wait_drawn

pytestmark = pytest.mark.slow  # a browser: seconds per module


@pytest.fixture(scope="module")
def context(browser, store):
    context = browser.new_context(base_url=store.open_url, viewport={"width": 1280,
                                                                     "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.console = Console(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of actions
    yield page
    errors = page.console.errors
    page.close()
    assert errors == []


def test_every_page_renders(page, store, shots):
    run = store.run_ids[0]
    pages = {
        "home": "/",
        "experiments": "/ui/experiments",
        "runs": f"/ui/experiments/{store.experiment_id}",
        "run": f"/ui/runs/{run}",
        "artifacts": f"/ui/runs/{run}/artifacts",
        "compare": "/ui/compare?" + "&".join(f"runs={r}" for r in store.run_ids[:4]),
        "models": "/ui/models",
        "model": "/ui/models/churn",
        "version": "/ui/models/churn/versions/2",
        "deployments": "/ui/deployments",
        "deployment": "/ui/deployments/churn-api",
        "data": "/ui/data", "pipelines": "/ui/pipelines", "monitoring": "/ui/monitoring",
        "features": "/ui/features", "admin": "/ui/admin", "audit": "/ui/admin/audit",
        "policies": "/ui/policies",
    }
    for name, path in pages.items():
        answer = page.goto(path)
        assert answer.status == 200, (name, answer.status)
        assert page.locator("h1").count() == 1
        assert page.locator("nav[aria-label=Capabilities] a").count() == 8
        if name in ("data", "pipelines", "monitoring", "features", "policies"):  # empty: they say
            text = page.locator("main").inner_text()  # how to make the first one
            assert "yet" in text and "not available" not in text, name
        wait_drawn(page)
        assert accessibility_problems(page) == [], name
        shoot(page, shots, name)


def test_the_keyboard_reaches_the_content_and_every_control(page, store):
    page.goto(f"/ui/experiments/{store.experiment_id}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") in ("", "filter")
    for _ in range(3):
        if page.evaluate("document.activeElement.id") == "filter":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "filter"
    page.keyboard.type("params.lr = '0.1'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"filter=params\.lr"))
    assert page.locator("table.runs tbody tr").count() == 8


def test_filter_sort_columns_and_pages(page, store, shots):
    page.goto(f"/ui/experiments/{store.experiment_id}?size=25")
    assert page.locator("table.runs tbody tr").count() == 24
    page.get_by_label("Filter runs").fill("params.lr = '0.1' AND metrics.accuracy > 0.6")
    page.get_by_role("button", name="Search").click()
    names = page.locator("table.runs tbody td:nth-child(2)").all_inner_texts()
    assert names == ["run-23", "run-20", "run-17", "run-14", "run-11"]
    assert "filter=params.lr" in page.url  # a deep link
    page.get_by_role("link", name=re.compile(r"^metrics\.accuracy")).click()
    names = page.locator("table.runs tbody td:nth-child(2)").all_inner_texts()
    assert names == ["run-23", "run-20", "run-17", "run-14", "run-11"]  # DESC first
    page.get_by_role("link", name=re.compile(r"^metrics\.accuracy")).click()
    names = page.locator("table.runs tbody td:nth-child(2)").all_inner_texts()
    assert names == ["run-11", "run-14", "run-17", "run-20", "run-23"]
    assert page.locator("th[aria-sort=ascending]").count() == 1

    page.get_by_label("Filter runs").fill("metrics.accuracy >>> 1")
    page.get_by_role("button", name="Search").click()
    error = page.locator("#filter-error")
    assert error.is_visible() and "filter" in error.inner_text().lower()
    assert page.get_by_label("Filter runs").get_attribute("aria-invalid") == "true"
    shoot(page, shots, "runs-filter-error")

    page.goto(f"/ui/experiments/{store.experiment_id}?size=25&cols=tags.team")
    assert page.locator("table.runs thead th").all_inner_texts()[-1].startswith("tags.team")
    page.locator("summary", has_text="Columns").click()
    page.get_by_label("depth").check()
    page.get_by_role("button", name="Show these columns").click()
    headers = page.locator("table.runs thead th").all_inner_texts()
    assert any(h.startswith("params.depth") for h in headers)
    assert "cols=params.depth" in page.url

    page.goto(f"/ui/experiments/{store.experiment_id}?size=25&order="
              + quote("metrics.accuracy DESC"))
    page.get_by_label("Per page").select_option("25")
    assert page.get_by_role("link", name="Next page").count() == 0
    page.goto(f"/ui/experiments/{store.experiment_id}?size=25&filter="
              + quote("metrics.accuracy >= 0") + "&order=" + quote("attributes.run_name ASC"))
    assert page.locator("table.runs tbody tr").count() == 24


def test_pages_of_runs_follow_tokens(page, store):
    page.goto(f"/ui/experiments/{store.experiment_id}?size=10&order="
              + quote("attributes.run_name ASC"))
    seen = []
    while True:
        seen += page.locator("table.runs tbody td:nth-child(2)").all_inner_texts()
        following = page.get_by_role("link", name="Next page")
        if not following.count():
            break
        following.click()
    assert seen == [f"run-{i:02d}" for i in range(24)]
    page.get_by_role("link", name="First page").click()
    assert page.locator("table.runs tbody td:nth-child(2)").first.inner_text() == "run-00"


def test_compare_selected_runs(page, store, shots):
    page.goto(f"/ui/experiments/{store.experiment_id}?order="
              + quote("attributes.run_name ASC"))
    for name in ("run-00", "run-01", "run-02"):
        page.get_by_label(f"Select run {name}").check()
    page.get_by_role("button", name=re.compile("Compare selected runs")).click()
    page.wait_for_selector("#overlay[data-drawn=true]")
    page.wait_for_selector("#parcoords[data-drawn=true]")
    assert page.locator("h1").inner_text() == "Compare 3 runs"
    assert page.locator("#overlay .scatterlayer .trace").count() == 3
    differs = page.locator("table.diff tr.differs th").all_inner_texts()
    assert sorted(d.split()[0] for d in differs) == ["depth", "lr", "model"]
    page.get_by_label("Metric").select_option("loss")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#overlay[data-drawn=true]")
    shoot(page, shots, "compare-loss")


def test_compare_shows_where_environments_and_packages_differ(page, store, shots):
    tracking = store.services.tracking
    experiment = tracking.create_experiment("environments", project="a")
    packages = {"a": "numpy==1.26.4\npandas==2.2.3\nscikit-learn==1.5.2\n",
                "b": "numpy==2.1.3\npandas==2.2.3\nxgboost==2.1.1\n"}
    ids = []
    for name, listed in packages.items():
        run_id = tracking.create_run(experiment, run_name=f"env-{name}").info.run_id
        tracking.log_batch(run_id, params={"lr": "0.1"}, tags={
            "gannet.python": "3.11.7", "gannet.git.commit": f"{name * 7}",
            "gannet.packages.digest": f"blake3:{name * 64}"})
        tracking.log_bytes(run_id, listed.encode(), "environment/requirements.txt")
        ids.append(run_id)
    page.goto(f"/ui/compare?runs={ids[0]}&runs={ids[1]}&only_differences=true")
    environment = page.locator("table.diff", has=page.get_by_role(
        "columnheader", name="Environment"))
    assert [t.split()[0] for t in environment.locator("tr.differs th").all_inner_texts()] == [
        "git.commit", "packages.digest"]
    assert "python" not in environment.inner_text()  # the same in both: left out
    rows = page.locator("table.diff", has=page.get_by_role("columnheader", name="Package"))
    assert [r.split("\t") for r in rows.locator("tbody tr").all_inner_texts()] == [
        ["numpy", "1.26.4", "2.1.3"], ["scikit-learn", "1.5.2", "-"], ["xgboost", "-", "2.1.1"]]
    assert not axe_violations(page)
    shoot(page, shots, "compare-environment")


def test_run_charts_and_artifact_previews(page, store, shots):
    run = store.run_ids[0]
    page.goto(f"/ui/runs/{run}")
    page.wait_for_selector("figure[data-key=loss] .plot[data-drawn=true]")
    page.get_by_label("Log scale").check()
    page.wait_for_function(
        "document.querySelector('figure[data-key=loss] .plot').layout.yaxis.type === 'log'")
    page.get_by_label("X axis").select_option("timestamp")
    page.wait_for_function(
        "document.querySelector('figure[data-key=loss] .plot').layout.xaxis.type === 'date'")
    first = "document.querySelector('figure[data-key=loss] .plot').data[0].y[1]"
    assert page.evaluate(first) == pytest.approx(1 / 2)
    page.get_by_label("Smoothing").fill("0.5")
    page.wait_for_function(f"Math.abs({first} - 0.75) < 1e-9")  # 0.5 * 1 + 0.5 * 1/2
    page.get_by_role("link", name="Artifacts").click()
    page.get_by_role("link", name="data/").click()
    page.get_by_role("link", name="data/sample.csv").click()
    assert page.locator("table thead th").all_inner_texts() == ["a", "b", "label"]
    assert page.locator("table tbody tr").count() == 2
    shoot(page, shots, "artifact-csv")
    page.goto(f"/ui/runs/{run}/artifact?path=config.json")
    assert '"threshold": 0.5' in page.locator("pre.preview").inner_text()
    page.goto(f"/ui/runs/{run}/artifact?path=plots/confusion.png")
    image = page.get_by_role("img", name="The image plots/confusion.png")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 4
    page.goto(f"/ui/runs/{run}/artifact?path=train.log")
    assert "epoch 2 done" in page.locator("pre.preview").inner_text()


def test_promote_shows_the_gates_first(page, store, shots):
    page.goto("/ui/models/churn/versions/2")
    assert page.frame_locator("iframe.card").locator("h1").count() >= 1
    page.get_by_label("Alias").fill("champion")
    page.get_by_role("button", name="Check the gates").click()
    assert page.locator("td.bad", has_text="failed").count() == 1
    assert page.get_by_role("button", name="Promote to champion").is_disabled()
    shoot(page, shots, "promote-gates")
    page.goto("/ui/models/churn/versions/2")
    page.get_by_label("Alias").fill("staging")
    page.get_by_role("button", name="Check the gates").click()
    page.get_by_label("Reason").fill("looks good")
    page.get_by_role("button", name="Promote to staging").click()
    assert "now points at version 2" in page.get_by_role("status").inner_text()
    assert store.services.registry.get_registered_model("churn").aliases["staging"] == 2
    page.goto("/ui/admin/audit?target=" + quote("model:churn@staging"))
    row = page.locator("table tbody tr").first.inner_text()
    assert "alias.promote" in row and "looks good" in row
    page.goto("/ui/models/churn")
    page.get_by_role("button", name="Remove the alias staging").click()
    assert page.url.endswith("/ui/models/churn")
    assert "staging" not in store.services.registry.get_registered_model("churn").aliases
    assert page.get_by_role("button", name="Remove the alias staging").count() == 0


def test_roll_back_a_deployment(page, store, shots):
    before = store.services.deployments.get_deployment_state("churn-api").revision
    page.goto("/ui/deployments/churn-api")
    page.get_by_label("To revision").select_option(str(before - 1))
    page.get_by_label("Why roll back").fill("canary failed")
    page.get_by_role("button", name="Roll back").click()
    assert "Rolled back" in page.get_by_role("status").inner_text()
    after = store.services.deployments.get_deployment_state("churn-api")
    assert after.revision == before + 1 and after.reason == "canary failed"
    shoot(page, shots, "deployment-rolled-back")
    page.locator("summary", has_text="Change the traffic").click()
    page.get_by_label("Routes").fill("churn/1 = 1\nchurn/2 = 3")
    page.get_by_label("Why the traffic changes").fill("more to v2")
    page.get_by_role("button", name="Change the traffic").click()
    assert "Traffic changed" in page.get_by_role("status").inner_text()
    state = store.services.deployments.get_deployment_state("churn-api")
    assert {r.ref: r.weight for r in state.routes} == {"churn/1": 1.0, "churn/2": 3.0}
    page.locator("summary", has_text="Change the traffic").click()
    page.get_by_label("Routes").fill("churn/1 = lots")
    page.get_by_role("button", name="Change the traffic").click()
    assert "is not 'ref = weight'" in page.get_by_role("alert").inner_text()
    assert store.services.deployments.get_deployment_state("churn-api") == state


def test_tag_and_delete_the_selected_runs(page, store, shots):
    """Last of the open server's tests: it deletes a run the others count."""
    tracking = store.services.tracking
    table = f"/ui/experiments/{store.experiment_id}?order=" + quote("attributes.run_name ASC")
    page.goto(table)
    for name in ("run-22", "run-23"):
        page.get_by_label(f"Select run {name}").check()
    page.locator("summary", has_text="Tag or delete").click()
    page.get_by_label("Tag key").fill("reviewed")
    page.get_by_label("Value").fill("yes")
    page.get_by_role("button", name="Tag selected runs").click()
    assert "tagged 2 run(s) reviewed=yes" in page.get_by_role("status").inner_text()
    assert "order=attributes.run_name" in page.url  # back to the same table
    tagged = [r.info.run_name for r in tracking.search_runs(
        [store.experiment_id], "tags.reviewed = 'yes'").items]
    assert sorted(tagged) == ["run-22", "run-23"]
    page.get_by_label("Select run run-21").check()
    page.locator("summary", has_text="Tag or delete").click()
    page.get_by_role("button", name="Delete selected runs").click()
    assert "deleted 1 run(s)" in page.get_by_role("status").inner_text()
    names = page.locator("table.runs tbody td:nth-child(2)").all_inner_texts()
    assert "run-21" not in names and len(names) == 23
    assert tracking.get_run(store.run_ids[21]).info.lifecycle_stage == "deleted"
    shoot(page, shots, "runs-bulk")


@pytest.fixture
def team_page(browser, store):
    context = browser.new_context(base_url=store.team_url)
    page = context.new_page()
    console = Console(page)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()
    assert console.errors == []


def log_in(page, user: str, password: str) -> None:
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_and_out(team_page, store, shots):
    page = team_page
    page.goto(f"/ui/experiments/{store.experiment_id}")
    assert page.url.startswith(f"{store.team_url}/ui/login?next=")
    shoot(page, shots, "login")
    log_in(page, "alice", "wrong-password")
    assert page.get_by_role("alert").is_visible()
    log_in(page, "alice", store.passwords["alice"])
    assert page.url == f"{store.team_url}/ui/experiments/{store.experiment_id}"
    assert "Signed in as alice" in page.locator("header").inner_text()
    page.goto("/ui/admin")
    assert "Not allowed" in page.locator("h1").inner_text()
    page.goto(f"/ui/experiments/{store.experiment_id}")
    cookie = next(c for c in page.context.cookies() if c["name"] == "gannet_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Log out").click()
    assert page.url.startswith(f"{store.team_url}/ui/login")
    page.goto("/ui/models")
    assert "/ui/login" in page.url  # the session is gone, and its token revoked
    tokens = store.services.auth.list_tokens("alice")
    assert all(t.revoked for t in tokens if t.name == "ui-session")


def test_a_reader_is_denied_an_action(team_page, store, shots):
    page = team_page
    page.goto("/ui/login")
    log_in(page, "rita", store.passwords["rita"])
    page.goto("/ui/models/churn/versions/1")
    page.get_by_label("Alias").fill("reader-alias")
    page.get_by_role("button", name="Check the gates").click()
    page.get_by_role("button", name="Promote to reader-alias").click()
    alert = page.get_by_role("alert")
    assert "Your role does not allow this" in alert.inner_text()
    assert page.locator("h1").inner_text() == "Not allowed"
    shoot(page, shots, "reader-denied")
    page.goto("/ui/admin/audit")
    assert page.locator("h1").inner_text() == "Not allowed"  # administrators only
    assert "reader-alias" not in store.services.registry.get_registered_model("churn").aliases


def test_the_axe_check_finds_what_is_wrong(page, store):
    """axe-core itself runs on each page: a page with an unlabelled field and an image
    without a text alternative fails it."""
    page.goto("/ui/models")
    assert axe_violations(page) == []
    page.evaluate("""() => {
      document.querySelector("main").insertAdjacentHTML("beforeend",
        '<input type="text"><img src="data:,">');
    }""")
    found = " ".join(axe_violations(page))
    assert "image-alt (critical)" in found and "label (critical)" in found
