"""The Admin page in a real browser (Chromium driven by Playwright) over a real team server
on 127.0.0.1: an administrator creates a user, grants them a role in a project and sees
it listed, revokes it, creates a project, and revokes an API token, which then fails
against the REST API (401). A reader is shown no forms, and posting them (with a valid CSRF
token of their own session) is refused as the API refuses it; a POST without a CSRF token
is refused. Every page passes the accessibility checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from browsing import accessibility_problems, shoot, watched_page
from stores import fresh_services

from gannet.testing.server import running_server

pytestmark = pytest.mark.slow  # a browser

PASSWORDS = {"ada": "ada-password-1", "rita": "rita-password-1"}


@dataclass(frozen=True)
class World:
    services: object
    team_url: str
    secret: str  # an API token of rita's, called "laptop"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("admin")
    services = fresh_services(root)
    auth = services.auth
    auth.create_user("ada", password=PASSWORDS["ada"], admin=True)
    auth.create_user("rita", password=PASSWORDS["rita"])
    auth.create_project("a", "the churn models")
    auth.add_member("a", "rita", "reader")
    secret = auth.create_token("laptop", user="rita").secret
    auth.create_token("ci", user="ada")
    try:
        with running_server(services, auth=True) as team_url:
            yield World(services, team_url, secret)
    finally:
        services.close()


def signed_in(browser, world: World, user: str):
    """A page of a browser logged in as ``user`` (a generator for ``yield from``)."""
    for page in watched_page(browser, world.team_url):
        page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of actions
        page.goto("/ui/login")
        page.get_by_label("User").fill(user)
        page.get_by_label("Password").fill(PASSWORDS[user])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{world.team_url}/")
        yield page


@pytest.fixture
def admin(browser, world):
    yield from signed_in(browser, world, "ada")


@pytest.fixture
def reader(browser, world):
    yield from signed_in(browser, world, "rita")


def members(page, project: str) -> str:
    return page.locator("table.projects tr", has_text=project).locator("td").nth(2).inner_text()


def test_an_admin_creates_a_user_and_grants_and_revokes_a_role(admin, world, shots):
    page = admin
    page.goto("/ui/admin")
    assert accessibility_problems(page) == []
    page.locator("#new-user-name").fill("nora")
    page.get_by_label("Password (leave empty").fill("nora-password-1")
    page.get_by_role("button", name="Create the user").click()
    assert page.get_by_role("status").inner_text() == "Created the user nora."
    assert "nora" in page.locator("table.users").inner_text()

    page.get_by_label("User", exact=True).select_option("nora")
    page.get_by_label("Project", exact=True).select_option("a")
    page.locator("#member-role").select_option("reader")
    page.get_by_role("button", name="Grant the role").click()
    assert page.get_by_role("status").inner_text() == "Changed the members of a."
    assert "nora: reader" in members(page, "a")
    row = page.locator("table.users tr", has_text="nora")
    assert "a: reader" in row.inner_text()
    assert world.services.auth.get_project("a").members["nora"] == "reader"
    assert accessibility_problems(page) == []
    shoot(page, shots, "admin")

    page.get_by_role("button", name="Revoke reader of nora in a").click()
    assert "nora" not in members(page, "a")
    assert "nora" not in world.services.auth.get_project("a").members

    page.locator("#new-project-name").fill("fraud")
    page.locator("#new-project-description").fill("card fraud")
    page.get_by_role("button", name="Create the project").click()
    assert page.get_by_role("status").inner_text() == "Created the project fraud."
    assert "ada: owner" in members(page, "fraud")  # who makes a project owns it


def test_an_admin_revokes_a_token_and_the_api_refuses_it(admin, world, shots):
    me = f"{world.team_url}/api/v1/me"
    bearer = {"authorization": f"Bearer {world.secret}"}
    assert httpx.get(me, headers=bearer).json()["user"] == "rita"
    page = admin
    page.goto("/ui/admin")
    page.get_by_role("link", name="API tokens of rita").click()
    assert page.locator("h1").inner_text() == "API tokens of rita"
    row = page.locator("table.tokens tbody tr", has_text="laptop")
    assert world.secret not in page.content()  # never the secret
    cells = row.locator("td").all_inner_texts()
    assert cells[3] == "never" and cells[4] not in ("", "not known")  # just used above
    assert accessibility_problems(page) == []
    shoot(page, shots, "admin-tokens")
    row.get_by_role("button", name="Revoke").click()
    assert page.get_by_role("status").inner_text().startswith("Revoked the token laptop")
    assert page.locator("table.tokens tbody tr", has_text="laptop").get_by_role(
        "button").count() == 0
    refused = httpx.get(me, headers=bearer)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]


def _csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "gannet_csrf")


def test_a_reader_sees_no_forms_and_is_refused_as_by_the_api(reader, world):
    page = reader
    answer = page.goto("/ui/admin")
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert page.locator("main form").count() == 0
    assert accessibility_problems(page) == []
    csrf = _csrf(page)
    ci = next(t.id for t in world.services.auth.list_tokens("ada") if t.name == "ci")
    with httpx.Client(base_url=world.team_url, auth=("rita", PASSWORDS["rita"])) as api:
        tried = [  # (the UI's form, the same through the REST API)
            (("/ui/admin/users", {"name": "mallory"}),
             api.post("/api/v1/users", json={"name": "mallory"})),
            (("/ui/admin/members", {"project": "a", "user": "rita", "role": "owner"}),
             api.put("/api/v1/projects/a/members/rita", json={"role": "owner"})),
            (("/ui/admin/members/remove", {"project": "a", "user": "rita"}),
             api.delete("/api/v1/projects/a/members/rita")),
            ((f"/ui/admin/tokens/{ci}/revoke", {}), api.delete(f"/api/v1/tokens/{ci}")),
        ]
    statuses = []
    for (path, form), by_api in tried:
        shown = page.context.request.post(path, form={"csrf": csrf, **form})
        assert shown.status == by_api.status_code, path
        assert "<form" not in shown.text().split('<main id="main"')[1], path
        statuses.append(shown.status)
    assert statuses == [403, 403, 403, 404]  # 404: a token not theirs, as the API says
    assert "mallory" not in [u.name for u in world.services.auth.list_users()]
    assert world.services.auth.get_project("a").members["rita"] == "reader"
    assert all(t.revoked is None for t in world.services.auth.list_tokens("ada")
               if t.name == "ci")


def test_a_form_without_its_csrf_token_is_refused(admin, world):
    page = admin
    page.goto("/ui/admin")
    for form in ({"name": "eve"}, {"name": "eve", "csrf": "forged"}):
        refused = page.context.request.post("/ui/admin/users", form=form)
        assert refused.status == 403
        assert "CSRF token is missing or stale" in refused.text()
    assert "eve" not in [u.name for u in world.services.auth.list_users()]


def test_a_user_makes_a_token_of_their_own_and_sees_its_secret_once(reader, world, shots):
    page = reader
    page.goto("/ui/admin/users/rita/tokens")
    page.get_by_label("Name").fill("notebook")
    page.get_by_label("Expires in").fill("30d")
    page.get_by_role("button", name="Make the token").click()
    assert page.get_by_role("status").inner_text().startswith(
        "Made the token notebook of rita, valid until")
    secret = page.get_by_label("Its secret, shown this once").input_value()
    assert accessibility_problems(page) == []
    shoot(page, shots, "admin-token-made")
    me = httpx.get(f"{world.team_url}/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["user"] == "rita"
    page.get_by_role("link", name="The API tokens of rita").click()
    assert secret not in page.content()  # shown once: never on the list
    row = page.locator("table.tokens tbody tr", has_text="notebook")
    assert row.locator("td").nth(3).inner_text() != "never"
    refused = page.context.request.post("/ui/admin/users/ada/tokens",
                                        form={"csrf": _csrf(page), "token_name": "mine-now"})
    assert refused.status == 403  # a token of someone else: as the API says
    assert "mine-now" not in [t.name for t in world.services.auth.list_tokens("ada")]
