"""An HTML artifact previewed safely, in a real browser (Chromium, driven by Playwright) over
the real servers: the report shows in an ``<iframe sandbox>`` whose page carries a CSP
sandbox, its scripts never run (the heading stays, nothing is fetched), a user who may not
read the run is denied as for any artifact, and a file over the limit is offered as a
download only. The page passes our accessibility checks and axe-core's."""

from __future__ import annotations

import re

import httpx
import pytest
from browsing import accessibility_problems, shoot

from gannet.ui.routes.runs import HTML_PREVIEW_BYTES

pytestmark = pytest.mark.slow  # a browser: seconds per module

REPORT = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation</title>
<style>h1 { color: #134; }</style></head>
<body><h1 id="heading">Evaluation report</h1><p>Accuracy 0.91 on the holdout set.</p>
<script>
document.getElementById("heading").textContent = "changed by a script";
fetch("/ui/experiments").then(() => { document.title = "fetched"; });
</script></body></html>"""
FRAME = "iframe[title^='Preview of the HTML file']"


@pytest.fixture(scope="module")
def reports(store) -> str:
    run = store.run_ids[0]
    tracking = store.services.tracking
    tracking.log_bytes(run, REPORT, "reports/eval.html")
    tracking.log_bytes(run, b"<p>" + b"x" * HTML_PREVIEW_BYTES + b"</p>", "reports/big.html")
    return run


@pytest.fixture
def watched(browser, store):
    """A page whose own console errors are kept apart from the framed report's (Chromium
    logs each script the sandbox blocks there: that is the report, not our page)."""
    context = browser.new_context(base_url=store.open_url, viewport={"width": 1280,
                                                                     "height": 900})
    page = context.new_page()
    seen: dict[str, list[str]] = {"ours": [], "report": [], "requests": []}

    def console(message) -> None:
        if message.type == "error":
            where = "report" if "artifact-html" in message.location.get("url", "") else "ours"
            seen[where].append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: seen["ours"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    yield page, seen
    context.close()


def test_a_report_shows_in_a_sandbox_where_its_scripts_do_not_run(watched, store, reports,
                                                                  shots):
    page, seen = watched
    with page.expect_response(re.compile(r"/artifact-html\?")) as framed:
        page.goto(f"/ui/runs/{reports}/artifact?path=reports/eval.html")
    frame = page.locator(FRAME)
    assert frame.get_attribute("sandbox") == ""
    heading = page.frame_locator(FRAME).locator("h1")
    assert heading.inner_text() == "Evaluation report"
    page.wait_for_timeout(500)  # time a script would have had to change it
    assert heading.inner_text() == "Evaluation report"
    assert not any(url.endswith("/ui/experiments") for url in seen["requests"])
    caption = page.locator("figure.html-preview figcaption").inner_text()
    assert "scripts are off in previews; download to view it fully" in caption
    headers = framed.value.headers
    assert headers["content-security-policy"].startswith("sandbox;")
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert accessibility_problems(page) == []
    shoot(page, shots, "artifact-html")
    assert seen["ours"] == []


def test_a_report_over_the_limit_is_a_download(watched, store, reports, shots):
    page, seen = watched
    page.goto(f"/ui/runs/{reports}/artifact?path=reports/big.html")
    assert "too large to preview" in page.locator("main").inner_text()
    assert page.locator("iframe").count() == 0
    link = page.get_by_role("link", name="download it")
    assert link.get_attribute("href").endswith("artifact-raw?path=reports/big.html")
    assert accessibility_problems(page) == []
    shoot(page, shots, "artifact-html-too-large")
    assert seen["ours"] == []
    with httpx.Client(base_url=store.open_url, timeout=30) as client:
        framed = client.get(f"/ui/runs/{reports}/artifact-html",
                            params={"path": "reports/big.html"})
    assert framed.status_code == 200 and len(framed.content) < 1000
    assert "too large to preview" in framed.text
    assert framed.headers["content-security-policy"].startswith("sandbox;")


def test_only_html_is_served_as_a_framed_page(store, reports):
    with httpx.Client(base_url=store.open_url, timeout=30) as client:
        other = client.get(f"/ui/runs/{reports}/artifact-html", params={"path": "config.json"})
        raw = client.get(f"/ui/runs/{reports}/artifact-raw",
                         params={"path": "reports/eval.html"})
    assert other.status_code == 400 and "not an HTML artifact" in other.text
    assert raw.headers["content-disposition"].startswith("attachment")  # the download


def _login(client: httpx.Client, secret: str) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/login").text)
    assert token, "the login page has no CSRF field"
    answer = client.post("/ui/login", data={"csrf": token.group(1), "token": secret})
    assert answer.status_code == 303


def test_a_user_who_may_not_read_the_run_is_denied_as_for_any_artifact(store, reports):
    auth = store.services.auth
    auth.create_user("olga", password="olga-password-1")  # in no project
    outsider = auth.create_token("ui-outsider", user="olga").secret
    reader = auth.create_token("ui-report-reader", user="rita").secret
    answers = {}
    for who, secret in (("outsider", outsider), ("reader", reader)):
        with httpx.Client(base_url=store.team_url, timeout=30) as client:
            _login(client, secret)
            for route, path in (("artifact", "config.json"), ("artifact", "reports/eval.html"),
                                ("artifact-raw", "config.json"),
                                ("artifact-html", "reports/eval.html")):
                answers[who, route, path] = client.get(f"/ui/runs/{reports}/{route}",
                                                       params={"path": path})
    page_json, page_html = (answers["outsider", "artifact", p]
                            for p in ("config.json", "reports/eval.html"))
    raw = answers["outsider", "artifact-raw", "config.json"]
    framed = answers["outsider", "artifact-html", "reports/eval.html"]
    assert page_json.status_code == page_html.status_code == 404  # not even that it exists
    assert raw.status_code == framed.status_code == 404
    assert ({k: v for k, v in raw.json().items() if k != "request_id"}
            == {k: v for k, v in framed.json().items() if k != "request_id"})
    assert "Evaluation report" not in page_html.text + framed.text
    allowed = answers["reader", "artifact-html", "reports/eval.html"]
    assert allowed.status_code == 200 and "Evaluation report" in allowed.text
