"""Users, API tokens, projects and roles on a team server, through real HTTP on 127.0.0.1.

The store is set up embedded (as an administrator does on the server's machine); every
check then goes through a server with auth on: anonymous and bad credentials are
refused, Bearer and HTTP basic both work, readers cannot write, and another project's
things answer exactly as missing ones do.
"""

import base64
import time
from dataclasses import dataclass

import httpx
import pytest

from gannet.bootstrap import build
from gannet.core.actor import acting_as
from gannet.core.digests import digest_bytes
from gannet.core.errors import NotFound, PermissionDenied
from gannet.testing.server import running_server


@dataclass
class Team:
    url: str
    admin: str  # tokens
    alice: str  # editor of a
    rita: str  # reader of a
    bob: str  # editor of b
    exp_a: str
    exp_b: str
    run_a: str
    run_b: str


@pytest.fixture
def team(services):
    auth = services.auth
    admin = auth.bootstrap_admin()
    assert admin is not None and auth.bootstrap_admin() is None  # once only
    for name in ("alice", "rita", "bob"):
        auth.create_user(name, password=f"{name}-password")
    for project, user, role in (("a", "alice", "editor"), ("a", "rita", "reader"),
                                ("b", "bob", "editor")):
        if project not in {p.name for p in auth.list_projects()}:
            auth.create_project(project)
        auth.add_member(project, user, role)
    tracking = services.tracking
    exp_a = tracking.create_experiment("exp-a", project="a")
    exp_b = tracking.create_experiment("exp-b", project="b")
    run_a = tracking.create_run(exp_a).info.run_id
    run_b = tracking.create_run(exp_b).info.run_id
    services.registry.create_registered_model("model-b", project="b")
    tokens = {u: auth.create_token("test", user=u).secret for u in ("alice", "rita", "bob")}
    with running_server(services, auth=True) as url:
        yield Team(url, admin, tokens["alice"], tokens["rita"], tokens["bob"],
                   exp_a, exp_b, run_a, run_b)


def client(team: Team, token: str | None = None, **kwargs) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=team.url, headers=headers, timeout=30, **kwargs)


def basic(user: str, secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def test_anonymous_and_malformed_credentials_are_refused_in_the_envelope(team):
    with client(team) as http:
        anonymous = http.get("/api/v1/experiments")
        assert anonymous.status_code == 401
        body = anonymous.json()
        assert set(body) == {"error", "code", "hint", "request_id"}
        assert body["code"] == "UNAUTHENTICATED" and "sent none" in body["error"]
        assert "Bearer" in anonymous.headers["www-authenticate"]
        garbled = http.get("/api/v1/experiments", headers={"authorization": "Token abc"})
        assert garbled.status_code == 401 and "not understood" in garbled.json()["error"]
        unknown = http.get("/api/v1/experiments", headers={"authorization": "Bearer gnt_nope"})
        assert unknown.status_code == 401 and "not valid" in unknown.json()["error"]
        assert http.get("/health").status_code == 200  # probes stay public


def test_bearer_and_basic_with_a_token_or_a_password_all_work(team):
    with client(team) as http:
        for headers in ({"authorization": f"Bearer {team.alice}"}, basic("alice", team.alice),
                        basic("alice", "alice-password")):
            me = http.get("/api/v1/me", headers=headers)
            assert me.status_code == 200, me.text
            assert me.json() == {"user": "alice", "admin": False,
                                 "via": me.json()["via"], "projects": {"a": "editor"}}
        wrong = http.get("/api/v1/me", headers=basic("alice", "not-her-password"))
        nobody = http.get("/api/v1/me", headers=basic("nobody", "not-her-password"))
        assert wrong.status_code == nobody.status_code == 401
        assert wrong.json()["error"] == nobody.json()["error"]  # no user names leak
        stolen = http.get("/api/v1/me", headers=basic("bob", team.alice))
        assert stolen.status_code == 401  # a token is only good with its own user


def test_expired_and_revoked_tokens_are_refused(team, services):
    with client(team, team.alice) as http:
        short = http.post("/api/v1/tokens", json={"name": "short", "expires_in": "1s"}).json()
        doomed = http.post("/api/v1/tokens", json={"name": "doomed"}).json()
        assert "secret" not in str(http.get("/api/v1/tokens").json()["tokens"])
        assert http.delete(f"/api/v1/tokens/{doomed['token']['id']}").status_code == 200
    time.sleep(1.1)
    with client(team, short["secret"]) as http:
        expired = http.get("/api/v1/me")
        assert expired.status_code == 401 and "expired" in expired.json()["error"]
    with client(team, doomed["secret"]) as http:
        revoked = http.get("/api/v1/me")
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]
    listed = {t.name: t for t in services.auth.list_tokens("alice")}
    assert listed["doomed"].revoked is not None and listed["test"].last_used is not None


def test_a_reader_that_writes_is_refused_and_nothing_is_stored(team, services):
    with client(team, team.rita) as http:
        assert http.get(f"/api/v1/experiments/{team.exp_a}").status_code == 200
        tag = http.put(f"/api/v1/experiments/{team.exp_a}/tags/stage", json={"value": "x"})
        assert (tag.status_code, tag.json()["code"]) == (403, PermissionDenied.code)
        assert "reader" in tag.json()["error"] and "--role editor" in tag.json()["hint"]
        rename = http.patch(f"/api/v1/experiments/{team.exp_a}", json={"name": "mine"})
        assert rename.status_code == 403
    stored = services.tracking.get_experiment(team.exp_a)
    assert stored.name == "exp-a" and "stage" not in stored.tags
    with client(team, team.alice) as http:  # an editor may
        assert http.put(f"/api/v1/experiments/{team.exp_a}/tags/stage",
                        json={"value": "x"}).status_code == 200


def test_only_an_editor_somewhere_may_send_blobs(team, services):
    data = b"bytes no run names yet"
    digest = digest_bytes(data)
    with client(team, team.rita) as http:  # a reader everywhere she is a member
        refused = http.put(f"/api/v1/blobs/{digest}", content=data)
        assert (refused.status_code, refused.json()["code"]) == (403, PermissionDenied.code)
        assert "editor role in some project" in refused.json()["error"]
    assert not services.blobs.exists(digest)  # nothing kept
    with client(team, team.alice) as http:
        assert http.put(f"/api/v1/blobs/{digest}", content=data).status_code == 201
    assert services.blobs.exists(digest)


def _same_answer(hidden: httpx.Response, missing: httpx.Response, hidden_id: str,
                 missing_id: str) -> None:
    assert hidden.status_code == missing.status_code == 404
    a, b = hidden.json(), missing.json()
    assert a["code"] == b["code"] == NotFound.code and a["hint"] == b["hint"]
    assert a["error"].replace(hidden_id, "ID") == b["error"].replace(missing_id, "ID")


def test_another_projects_things_answer_exactly_as_missing_ones(team, services):
    with client(team, team.alice) as http:
        for method, path, body in (("GET", "/api/v1/experiments/{}", None),
                                   ("PATCH", "/api/v1/experiments/{}", {"name": "x"}),
                                   ("DELETE", "/api/v1/experiments/{}", None)):
            hidden = http.request(method, path.format(team.exp_b), json=body)
            missing = http.request(method, path.format("no-such-id"), json=body)
            _same_answer(hidden, missing, team.exp_b, "no-such-id")
        by_name = http.get("/api/v1/experiments/by-name", params={"name": "exp-b"})
        assert by_name.json() == {"experiment": None}
    assert services.tracking.get_experiment(team.exp_b).lifecycle_stage == "active"
    # runs and models, as the services answer every face (the same actor as over HTTP)
    alice = services.auth.authenticate(f"Bearer {team.alice}", "127.0.0.1")
    with acting_as(alice):
        for call, hidden, missing in (
            (services.tracking.get_run, team.run_b, "0" * 32),
            (lambda r: services.tracking.log_batch(r, params={"p": 1}), team.run_b, "0" * 32),
            (services.registry.get_registered_model, "model-b", "model-none"),
            (services.registry.delete_registered_model, "model-b", "model-none"),
        ):
            with pytest.raises(NotFound) as seen:
                call(hidden)
            with pytest.raises(NotFound) as truly:
                call(missing)
            assert str(seen.value).replace(hidden, "X") == str(truly.value).replace(missing, "X")
        assert services.tracking.search_runs([team.exp_b]).items == []
        assert [m.name for m in services.registry.search_registered_models()] == []
        services.tracking.log_batch(team.run_a, params={"p": 1})  # her own: fine
    assert services.tracking.get_run(team.run_b).data.params == {}


def test_searches_list_only_the_callers_projects(team):
    with client(team, team.alice) as http:
        names = [e["name"] for e in http.get("/api/v1/experiments").json()["experiments"]]
        assert names == ["exp-a"]
    with client(team, team.bob) as http:
        assert [p["name"] for p in http.get("/api/v1/projects").json()["projects"]] == ["b"]
    with client(team, team.admin) as http:
        names = {e["name"] for e in http.get("/api/v1/experiments").json()["experiments"]}
        assert names == {"Default", "exp-a", "exp-b"}


def test_brute_force_is_rate_limited(team):
    with client(team) as http:
        for _ in range(10):
            assert http.get("/api/v1/me", headers=basic("alice", "guess-guess")).status_code == 401
        limited = http.get("/api/v1/me", headers=basic("alice", "alice-password"))
        assert (limited.status_code, limited.json()["code"]) == (429, "REQUEST_LIMIT_EXCEEDED")
        assert "wait" in limited.json()["hint"]


def test_users_tokens_and_projects_through_the_remote_sdk_with_the_audit_log(team, settings):
    remote = build(settings.replace(uri=team.url, token=team.admin))
    try:
        auth = remote.auth
        auth.create_user("carol")
        made = auth.create_token("ci", user="carol", expires_in="1d")
        assert made.secret.startswith("gnt_") and made.token.expires is not None
        auth.create_project("c", "carol's")
        project = auth.add_member("c", "carol", "owner")
        assert project.members == {"admin": "owner", "carol": "owner"}
        assert [u.name for u in auth.list_users()] == ["admin", "alice", "bob", "carol", "rita"]
        entries = auth.search_audit_log("project:c")
        assert {e.action for e in entries} == {"project.create", "member.set"}
        assert all(e.user_id == "admin" and e.detail["address"] == "127.0.0.1" for e in entries)
    finally:
        remote.close()
    carol = build(settings.replace(uri=team.url, token=made.secret))
    try:
        with pytest.raises(PermissionDenied):
            carol.auth.create_user("mallory")
        with pytest.raises(PermissionDenied):
            carol.auth.search_audit_log()
        assert [p.name for p in carol.auth.list_projects()] == ["c"]
    finally:
        carol.close()


def _gannet(settings, *args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "gannet", "--home", str(settings.home), "--metadata-url",
            settings.metadata_url, "--artifacts-url", settings.artifacts_url, *args]


def _env() -> dict[str, str]:
    import os

    return {**{k: v for k, v in os.environ.items() if not k.startswith("GANNET_")},
            "NO_COLOR": "1", "COLUMNS": "200"}


def _start(settings):
    import re
    import subprocess

    proc = subprocess.Popen(_gannet(settings, "server", "--port", "0"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        proc.kill()
        raise AssertionError(f"gannet server did not start: {line}{proc.communicate()[1]}")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def _stop(proc) -> str:
    import signal

    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err


def test_the_first_start_prints_an_admin_token_once_and_it_works(settings):
    import re

    first, url = _start(settings)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/api/v1/experiments").status_code == 401
    finally:
        printed = _stop(first)
    token = re.search(r"gnt_[A-Za-z0-9_-]{40,}", printed)
    assert token is not None, printed
    second, url = _start(settings)
    try:
        with httpx.Client(base_url=url, timeout=30,
                          headers={"authorization": f"Bearer {token.group(0)}"}) as http:
            me = http.get("/api/v1/me").json()
            assert (me["user"], me["admin"]) == ("admin", True)
    finally:
        again = _stop(second)
    assert "gnt_" not in again  # printed once, never again


def test_no_auth_is_refused_on_an_address_others_reach(settings):
    import subprocess

    done = subprocess.run(_gannet(settings, "server", "--host", "0.0.0.0", "--no-auth"),
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 3, done.stderr
    assert "--no-auth is refused on 0.0.0.0" in done.stderr
