"""Single sign-on from the login page in a real browser (Chromium driven by Playwright):
a team server on 127.0.0.1 whose OpenID Connect provider is the test provider
(``gannet.testing.oidc``, on its own socket); the button goes through the provider and
back, and ends in a UI session with the roles the person's groups give. A login the
provider refuses, or a callback this browser did not start, ends on the login page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import Console, accessibility_problems, shoot

from gannet.bootstrap import build
from gannet.core.settings import Settings
from gannet.testing.oidc import Person, running_provider
from gannet.testing.server import running_server

pytestmark = pytest.mark.slow  # a browser


@pytest.fixture(scope="module")
def idp():
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def server(tmp_path_factory, idp) -> Iterator[tuple[object, str]]:
    root = tmp_path_factory.mktemp("sso")
    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             metadata_url=f"sqlite:///{root / 'gannet.db'}",
                             capture_environment=False, oidc_issuer=idp.issuer,
                             oidc_client_id=idp.client_id,
                             oidc_client_secret=idp.client_secret,
                             oidc_group_roles="ml-team = vision:reader")
    services = build(settings)
    services.auth.bootstrap_admin()
    services.auth.create_project("vision")
    services.tracking.create_experiment("vision-exp", project="vision")
    services.tracking.create_experiment("hidden-exp", project="default")
    try:
        with running_server(services, auth=True) as url:
            yield services, url
    finally:
        services.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server[1])
    page = context.new_page()
    console = Console(page)
    yield page
    context.close()
    assert console.errors == []


def test_sign_in_with_single_sign_on(page, server, idp, shots):
    services, url = server
    idp.person = Person("ana", ["ml-team"])
    page.goto("/ui/experiments")
    assert "/ui/login?next=" in page.url
    button = page.get_by_role("button", name="Sign in with single sign-on")
    assert accessibility_problems(page) == []
    shoot(page, shots, "login-sso")
    button.click()
    page.wait_for_url(f"{url}/ui/experiments")
    assert idp.hits["authorize"] == 1 and idp.hits["token"] >= 1
    assert "Signed in as ana" in page.locator("header").inner_text()
    names = page.locator("main table a").all_inner_texts()
    assert "vision-exp" in names and "hidden-exp" not in names  # ml-team: a vision reader
    assert not [c for c in page.context.cookies() if c["name"] == "gannet_sso"]
    tokens = [t for t in services.auth.list_tokens("ana") if not t.revoked]
    assert len(tokens) == 1
    page.get_by_role("button", name="Log out").click()
    assert not [t for t in services.auth.list_tokens("ana") if not t.revoked]


def test_a_refused_or_foreign_sign_on_ends_on_the_login_page(page, server, idp):
    idp.refuse = "access_denied"
    try:
        page.goto("/ui/login")
        page.get_by_role("button", name="Sign in with single sign-on").click()
        alert = page.get_by_role("alert")
        assert "refused the login (access_denied" in alert.inner_text()
        assert page.locator("h1").inner_text() == "Log in"
    finally:
        idp.refuse = None
    page.goto("/ui/login/sso/callback?state=made-up&code=stolen")
    assert "was not started in this browser" in page.get_by_role("alert").inner_text()
    page.goto("/ui/models")
    assert "/ui/login" in page.url  # no session came of either


def test_behind_a_proxy_name_the_sign_on_still_ends_in_a_ui_session(browser, tmp_path, idp):
    """With ``oidc_redirect_uri`` naming the server as the provider reaches it (here
    ``localhost``, where the server sees ``127.0.0.1``), the UI's login comes back to
    ``/ui/login/sso/callback`` beside it, not to the API's token page."""
    import socket

    with socket.socket() as probe:  # a free port, to name in the setting before the start
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings.load(environ={}, cwd=tmp_path, home=tmp_path / ".gannet",
                             progress=False, capture_environment=False,
                             metadata_url=f"sqlite:///{tmp_path / 'gannet.db'}",
                             oidc_issuer=idp.issuer, oidc_client_id=idp.client_id,
                             oidc_client_secret=idp.client_secret,
                             oidc_group_roles="ml-team = vision:reader",
                             oidc_redirect_uri=f"http://localhost:{port}/api/v1/oidc/callback")
    services = build(settings)
    services.auth.bootstrap_admin()
    services.auth.create_project("vision")
    idp.person = Person("bea", ["ml-team"])
    try:
        with running_server(services, auth=True, port=port):
            context = browser.new_context(base_url=f"http://localhost:{port}")
            page = context.new_page()
            page.goto("/ui/login?next=/ui/experiments")
            page.get_by_role("button", name="Sign in with single sign-on").click()
            page.wait_for_url(f"http://localhost:{port}/ui/experiments")
            assert "Signed in as bea" in page.locator("header").inner_text()
            context.close()
    finally:
        services.close()
