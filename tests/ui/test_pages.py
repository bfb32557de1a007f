"""The web UI over HTTP, without a browser: what a page or form must refuse (a form without
its CSRF token or from another site, a forged or stale session), that logins become signed
HttpOnly cookies, that the API answers as before beside the pages, and `gannet ui`."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import httpx
import pytest

from gannet.testing.server import ServerProcess
from gannet.tracking.types import Pending


def csrf_of(client: httpx.Client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    found = re.search(r'name="csrf" value="([^"]+)"', answer.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_a_form_needs_its_csrf_token_and_this_sites_origin(store):
    before = store.services.deployments.get_deployment_state("churn-api").revision
    with httpx.Client(base_url=store.open_url, timeout=30) as client:
        token = csrf_of(client, "/ui/deployments/churn-api")
        assert client.cookies.get("gannet_csrf") == token
        no_token = client.post("/ui/deployments/churn-api/rollback", data={"reason": "x"})
        assert no_token.status_code == 403
        assert "CSRF token is missing or stale" in no_token.text
        wrong = client.post("/ui/deployments/churn-api/rollback",
                            data={"csrf": token + "x", "reason": "x"})
        assert wrong.status_code == 403
        foreign = client.post("/ui/deployments/churn-api/rollback",
                              data={"csrf": token, "reason": "x"},
                              headers={"origin": "http://evil.example"})
        assert foreign.status_code == 403 and "another site" in foreign.text
    assert store.services.deployments.get_deployment_state("churn-api").revision == before


def test_pages_ask_for_a_login_and_the_api_answers_as_before(store):
    with httpx.Client(base_url=store.team_url, timeout=30) as client:
        page = client.get(f"/ui/experiments/{store.experiment_id}?filter=x")
        assert page.status_code == 303
        assert page.headers["location"] == "/ui/login?next=" + quote(
            f"/ui/experiments/{store.experiment_id}?filter=x", safe="")
        assert client.get("/").status_code == 303
        assert client.get("/ui/login").status_code == 200
        assert client.get("/ui/static/ui.css").status_code == 200
        api = client.get("/api/v1/experiments")
        assert api.status_code == 401 and "UNAUTHENTICATED" in api.text
        assert client.get("/health").status_code == 200


def test_a_login_is_a_signed_httponly_cookie_and_a_forged_one_is_refused(store):
    with httpx.Client(base_url=store.team_url, timeout=30) as client:
        token = csrf_of(client, "/ui/login")
        wrong = client.post("/ui/login", data={"csrf": token, "user": "alice",
                                               "password": "nope"})
        assert wrong.status_code == 401 and "gannet_session" not in wrong.headers.get(
            "set-cookie", "")
        answer = client.post("/ui/login", data={
            "csrf": token, "user": "alice", "password": store.passwords["alice"],
            "next": "https://evil.example/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=43200" in cookie
        assert "Signed in as <strong>alice</strong>" in client.get("/").text
        session = client.cookies["gannet_session"]
        body, _, mac = session.rpartition(".")
        client.cookies.clear()
        client.cookies.set("gannet_session", body + "." + mac[::-1])
        forged = client.get("/ui/models")
        assert forged.status_code == 303 and forged.headers["location"].startswith("/ui/login")
        assert 'gannet_session=""' in forged.headers["set-cookie"] or \
            "gannet_session=;" in forged.headers["set-cookie"]


def test_a_session_of_a_revoked_token_ends(store):
    secret = store.services.auth.create_token("for-the-ui", user="rita")
    with httpx.Client(base_url=store.team_url, timeout=30) as client:
        token = csrf_of(client, "/ui/login")
        logged = client.post("/ui/login", data={"csrf": token, "token": secret.secret})
        assert logged.status_code == 303
        assert client.get("/ui/models").status_code == 200
        store.services.auth.revoke_token(secret.token.id)
        time.sleep(store.services.settings.auth_cache_seconds + 0.2)
        stale = client.get("/ui/models")
        assert stale.status_code == 303 and stale.headers["location"].startswith("/ui/login")


def test_plotly_is_served_from_the_installed_package(store):
    with httpx.Client(base_url=store.open_url, timeout=30) as client:
        script = client.get("/ui/static/plotly.min.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert b"plotly.js" in script.content[:2000]
        assert client.get("/ui/static/../app.py").status_code == 404
        assert client.get("/ui/static/nothing.js").status_code == 404


def test_an_artifact_is_never_served_as_a_page(store):
    run = store.run_ids[0]
    store.services.tracking.log_bytes(run, b"<script>alert(1)</script>", "report.html")
    with httpx.Client(base_url=store.open_url, timeout=30) as client:
        raw = client.get(f"/ui/runs/{run}/artifact-raw", params={"path": "report.html"})
        assert raw.headers["content-type"] == "application/octet-stream"
        assert raw.headers["content-disposition"].startswith("attachment")
        assert "sandbox" in raw.headers["content-security-policy"]
        shown = client.get(f"/ui/runs/{run}/artifact", params={"path": "report.html"})
        assert "alert(1)" not in shown.text  # framed from artifact-html, sandboxed
        assert "<iframe" in shown.text and " sandbox " in shown.text
        missing = client.get(f"/ui/runs/{run}/artifact", params={"path": "nothing.txt"})
        assert missing.status_code == 404 and "nothing.txt" in missing.text


@pytest.mark.slow
def test_a_page_of_a_big_runs_table_is_one_fast_search(store):
    """1,000 runs here (bench/ui.py times 10,000 against MLflow's search)."""
    tracking = store.services.tracking
    experiment_id = tracking.create_experiment("big", project="a")
    run_ids = [tracking.create_run(experiment_id, run_name=f"r{i}").info.run_id
               for i in range(1000)]
    pending = Pending(points=[(r, "acc", i / 10_000, 1, 0) for i, r in enumerate(run_ids)],
                      params=[(r, "lr", str(i % 7)) for i, r in enumerate(run_ids)])
    tracking.write_pending(pending, batch_id="ui-big-batch-1")
    path = (f"/ui/experiments/{experiment_id}?size=100&filter=" + quote("metrics.acc > 0.001")
            + "&order=" + quote("metrics.acc DESC") + "&cols=metrics.acc&cols=params.lr")
    with httpx.Client(base_url=store.open_url, timeout=30) as client:
        client.get(path)
        started = time.perf_counter()
        answer = client.get(path)
        took = time.perf_counter() - started
    assert answer.status_code == 200 and answer.text.count("<tr>") >= 100
    assert took < 1.0, f"the runs table took {took:.2f} s"


@pytest.mark.slow
def test_gannet_ui_serves_the_pages_without_a_login(settings):
    with ServerProcess(settings, command="ui") as server:
        assert server.lines[-1].startswith("Gannet UI on http://127.0.0.1:")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            home = client.get("/")
            assert home.status_code == 200 and "<h1>Gannet</h1>" in home.text
            assert client.get("/ui/experiments").status_code == 200
            assert client.get("/api/v1/experiments").status_code == 200


def test_a_reader_cannot_tag_or_delete_runs(store):
    secret = store.services.auth.create_token("ui-reader", user="rita").secret
    run_ids = ",".join(store.run_ids[:2])
    with httpx.Client(base_url=store.team_url, timeout=30) as client:
        token = csrf_of(client, "/ui/login")
        assert client.post("/ui/login", data={"csrf": token, "token": secret}).status_code == 303
        base = f"/ui/experiments/{store.experiment_id}/runs"
        tagged = client.post(f"{base}/tag", data={"csrf": token, "runs": run_ids,
                                                  "key": "stolen", "value": "1"})
        deleted = client.post(f"{base}/delete", data={"csrf": token, "runs": run_ids})
        empty = client.post(f"{base}/delete", data={"csrf": token, "runs": ""})
    assert tagged.status_code == deleted.status_code == 403
    assert "Your role does not allow this" in tagged.text
    assert empty.status_code == 400 and "tick 1 to 1000 runs first" in empty.text
    for run_id in store.run_ids[:2]:
        run = store.services.tracking.get_run(run_id)
        assert "stolen" not in run.data.tags and run.info.lifecycle_stage == "active"
