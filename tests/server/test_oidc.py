"""Single sign-on with OpenID Connect, through real HTTP on 127.0.0.1: the server, the
small provider of ``gannet.testing.oidc``, and a client following the redirects between
them as a browser does; on SQLite and PostgreSQL.

The provider's groups map to roles by ``GROUP_ROLES`` (conftest): ``ml-team`` reads
``vision`` and ``default``, ``vision-editors`` edits ``vision``, ``platform`` administers.
"""

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gannet.bootstrap import build
from gannet.core.actor import Actor, acting_as
from gannet.core.errors import PermissionDenied
from gannet.testing.browser import follow
from gannet.testing.oidc import Person, running_provider
from gannet.testing.server import running_server

JSON = {"accept": "application/json"}


def sign_in(server: str, **headers: str) -> httpx.Response:
    """The whole flow: server -> provider -> server's callback, redirects followed."""
    return follow(f"{server}/api/v1/oidc/login", **headers)


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def step(url: str) -> str:
    """One redirect, not followed: where it points."""
    response = httpx.get(url, timeout=30)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def experiment_id(services, name: str) -> str:
    return services.tracking.get_experiment_by_name(name).experiment_id


def test_a_login_makes_a_token_with_exactly_the_mapped_roles(sso_server, sso_services, idp):
    idp.person = Person("ana", ["ml-team", "not-mapped"], email="ana@example.com")
    done = sign_in(sso_server, **JSON)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["user"], body["admin"]) == ("ana", False)
    assert body["projects"] == {"default": "reader", "vision": "reader"}
    assert body["token"]["name"].startswith("sso-") and body["secret"].startswith("gnt_")
    lifetime = body["token"]["expires"] - body["token"]["created"]
    assert abs(lifetime - 12 * 3600 * 1000) < 5000  # oidc_token_ttl's default, 12h

    vision, nlp = (experiment_id(sso_services, f"{p}-exp") for p in ("vision", "nlp"))
    with httpx.Client(base_url=sso_server, headers=bearer(body["secret"]), timeout=30) as http:
        me = http.get("/api/v1/me").json()
        assert me == {"user": "ana", "admin": False, "via": "token",
                      "projects": {"default": "reader", "vision": "reader"}}
        assert http.get(f"/api/v1/experiments/{vision}").status_code == 200
        write = http.put(f"/api/v1/experiments/{vision}/tags/stage", json={"value": "x"})
        assert (write.status_code, write.json()["code"]) == (403, PermissionDenied.code)
        assert http.get(f"/api/v1/experiments/{nlp}").status_code == 404  # invisible
        names = {e["name"] for e in http.get("/api/v1/experiments").json()["experiments"]}
        assert "nlp-exp" not in names and "vision-exp" in names
    user = sso_services.auth.get_user("ana")
    assert not user.has_password and not user.admin
    entry = sso_services.auth.search_audit_log("user:ana")[0]
    assert (entry.action, entry.user_id) == ("user.login", "ana")
    assert entry.detail["via"] == "oidc" and entry.detail["address"] == "127.0.0.1"
    assert entry.detail["groups"] == ["ml-team", "not-mapped"]
    assert entry.detail["token"] == body["token"]["id"]
    assert idp.hits["discovery"] == 1  # cached


def test_groups_listed_only_at_userinfo_give_their_roles(sso_server, idp):
    """Providers that keep big group lists out of the ID token serve them at userinfo."""
    idp.person = Person("cy", ["vision-editors"])
    idp.groups_in = "userinfo"
    done = sign_in(sso_server, **JSON)
    assert done.status_code == 200, done.text
    assert done.json()["projects"] == {"vision": "editor"}
    assert idp.hits["userinfo"] == 1


def test_the_browser_sees_the_token_once_on_a_page(sso_server, idp):
    idp.person = Person("ben", ["vision-editors"])
    page = sign_in(sso_server)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    secret = re.search(r'<pre id="token">(gnt_[\w-]+)</pre>', page.text).group(1)
    assert "Signed in as ben" in page.text and "vision: editor" in page.text
    me = httpx.get(f"{sso_server}/api/v1/me", headers=bearer(secret)).json()
    assert me["projects"] == {"vision": "editor"}


def test_a_second_login_replaces_sso_memberships_and_keeps_hand_given_ones(
        sso_server, sso_services, idp):
    auth = sso_services.auth
    idp.person = Person("ana", ["ml-team"])
    assert sign_in(sso_server, **JSON).json()["projects"] == {"default": "reader",
                                                              "vision": "reader"}
    auth.add_member("nlp", "ana", "editor")  # an owner's doing, by hand
    auth.add_member("default", "ana", "editor")  # by hand, over an SSO membership

    idp.person = Person("ana", ["vision-editors", "platform"])
    second = sign_in(sso_server, **JSON).json()
    assert second["projects"] == {"default": "editor", "nlp": "editor", "vision": "editor"}
    assert second["admin"] is True
    assert auth.get_user("ana").admin

    idp.person = Person("ana", [])
    third = sign_in(sso_server, **JSON).json()
    assert third["projects"] == {"default": "editor", "nlp": "editor"}
    assert third["admin"] is False and not auth.get_user("ana").admin
    tokens = auth.list_tokens("ana")
    assert len(tokens) == 3 and all(t.name.startswith("sso-") for t in tokens)
    logins = [e for e in auth.search_audit_log("user:ana") if e.action == "user.login"]
    assert len(logins) == 3


def test_a_hand_given_admin_role_survives_an_sso_login_without_it(
        sso_server, sso_services, idp):
    idp.person = Person("ops", ["platform"])
    assert sign_in(sso_server, **JSON).json()["admin"] is True
    with acting_as(Actor("admin", admin=True)):
        sso_services.auth.grant_role("ops", "admin")  # by hand: now for good
    idp.person = Person("ops", [])
    assert sign_in(sso_server, **JSON).json()["admin"] is True


def test_a_project_the_mapping_names_is_made_at_the_first_login(sso_settings, idp):
    services = build(sso_settings.replace(oidc_group_roles="newcomers = fresh:editor"))
    try:
        with running_server(services, auth=True) as url:
            idp.person = Person("ana", ["newcomers"])
            assert sign_in(url, **JSON).json()["projects"] == {"fresh": "editor"}
        assert services.auth.get_project("fresh").members == {"ana": "editor"}
    finally:
        services.close()


def _nothing_stored(services, user: str = "ana") -> None:
    assert user not in {u.name for u in services.auth.list_users()}
    assert services.auth.list_tokens(user) == []
    assert not [e for e in services.auth.search_audit_log(f"user:{user}")]


def _refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"error", "code", "hint", "request_id"}
    assert body["code"] == "UNAUTHENTICATED"
    for word in words:
        assert word in body["error"], body["error"]


@pytest.mark.parametrize(("mischief", "words"), [
    ({"foreign_key": True}, ("signature does not verify",)),
    ({"audience": "someone-else"}, ("audience", "someone-else", "'gannet'")),
    ({"lifetime": -300}, ("expired",)),
    ({"refuse": "access_denied"}, ("refused the login", "access_denied")),
    ({"person": Person("ana", None)}, ("no 'groups' claim",)),
    ({"person": Person("a/b", ["ml-team"])}, ("cannot be a Gannet user name",)),
    ({"groups_in": "userinfo", "userinfo_sub": "sub-eve"}, ("userinfo is about another user",
                                                            "sub-eve")),
], ids=["tampered", "audience", "expired", "idp-error", "no-groups", "bad-name",
        "userinfo-of-another"])
def test_a_bad_id_token_or_provider_error_is_refused_and_nothing_is_stored(
        sso_server, sso_services, idp, mischief, words):
    idp.person = Person("ana", ["ml-team"])
    for name, value in mischief.items():
        setattr(idp, name, value)
    _refused(sign_in(sso_server), *words)
    _nothing_stored(sso_services)
    _nothing_stored(sso_services, "a/b")


def test_unknown_and_replayed_states_are_refused(sso_server, sso_services, idp):
    unknown = httpx.get(f"{sso_server}/api/v1/oidc/callback",
                        params={"state": "made-up", "code": "x"})
    _refused(unknown, "unknown or was used already")
    none = httpx.get(f"{sso_server}/api/v1/oidc/callback", params={"code": "x"})
    _refused(none, "no state")
    to_provider = step(f"{sso_server}/api/v1/oidc/login")
    callback = step(to_provider)
    assert httpx.get(callback, headers=JSON).status_code == 200
    replayed = httpx.get(callback, headers=JSON)
    _refused(replayed, "used already")
    assert len(sso_services.auth.list_tokens("ana")) == 1


def test_a_code_sent_with_another_logins_verifier_fails_pkce(sso_server, sso_services, idp):
    """A code injected into another login's callback: that login's PKCE verifier does
    not match the code's challenge, so the provider refuses the code."""
    first = parse_qs(urlsplit(step(step(f"{sso_server}/api/v1/oidc/login"))).query)
    second = parse_qs(urlsplit(step(step(f"{sso_server}/api/v1/oidc/login"))).query)
    injected = httpx.get(f"{sso_server}/api/v1/oidc/callback",
                         params={"state": second["state"][0], "code": first["code"][0]})
    _refused(injected, "refused the login's code", "PKCE")
    _nothing_stored(sso_services)


def test_a_callback_reaching_another_replica_signs_in(sso_settings, sso_server, idp):
    """Replicas share only the store: the login's state must be there."""
    other = build(sso_settings)
    try:
        with running_server(other, auth=True) as second:
            callback = step(step(f"{sso_server}/api/v1/oidc/login"))
            assert callback.startswith(sso_server)
            moved = second + callback.removeprefix(sso_server)
            done = httpx.get(moved, headers=JSON, timeout=30)
            assert done.status_code == 200, done.text
            secret = done.json()["secret"]
            for server in (sso_server, second):
                assert httpx.get(f"{server}/api/v1/me", headers=bearer(secret)).json()[
                    "user"] == "ana"
            again = httpx.get(callback, headers=JSON)  # and it was used up for both
            _refused(again, "used already")
    finally:
        other.close()


def test_only_a_loopback_url_may_receive_a_token(sso_server):
    for url in ("http://evil.example.com:8000/cb", "https://127.0.0.1:8000/cb",
                "http://127.0.0.1/cb", "http://user@127.0.0.1:80/cb"):
        refused = httpx.get(f"{sso_server}/api/v1/oidc/login", params={"redirect_uri": url})
        assert refused.status_code == 400, url
        assert refused.json()["code"] == "INVALID_PARAMETER_VALUE"
        assert "loopback" in refused.json()["error"]
    allowed = httpx.get(f"{sso_server}/api/v1/oidc/login",
                        params={"redirect_uri": "http://127.0.0.1:8123/callback?state=x"})
    assert allowed.status_code == 302


def test_a_cli_login_gets_its_token_or_its_error_at_its_loopback_url(sso_server, idp):
    loopback = "http://127.0.0.1:9/callback?state=cli-own"
    login = str(httpx.URL(f"{sso_server}/api/v1/oidc/login", params={"redirect_uri": loopback}))
    handed = step(step(step(login)))
    assert handed.startswith("http://127.0.0.1:9/callback?")
    query = parse_qs(urlsplit(handed).query)
    assert query["state"] == ["cli-own"] and query["user"] == ["ana"]
    assert query["token"][0].startswith("gnt_") and int(query["expires"][0]) > time.time()
    idp.lifetime = -300
    failed = parse_qs(urlsplit(step(step(step(login)))).query)
    assert failed["state"] == ["cli-own"] and "token" not in failed
    assert failed["code"] == ["UNAUTHENTICATED"] and "expired" in failed["error"][0]


def test_a_server_without_sso_says_so(settings):
    services = build(settings)
    try:
        with running_server(services, auth=True) as url:
            off = httpx.get(f"{url}/api/v1/oidc/login")
            assert (off.status_code, off.json()["code"]) == (501, "NOT_IMPLEMENTED")
            assert "oidc_issuer" in off.json()["hint"]
    finally:
        services.close()


def test_a_disabled_user_cannot_sign_in(sso_server, sso_services, idp):
    idp.person = Person("ana", ["ml-team"])
    assert sign_in(sso_server, **JSON).status_code == 200
    sso_services.auth.disable_user("ana")
    _refused(sign_in(sso_server), "'ana' is disabled")
    assert len(sso_services.auth.list_tokens("ana")) == 1


def test_a_provider_that_cannot_be_reached_is_unavailable(settings):
    services = build(settings.replace(oidc_issuer="http://127.0.0.1:9", oidc_client_id="g"))
    try:
        with running_server(services, auth=True) as url:
            down = httpx.get(f"{url}/api/v1/oidc/login")
            assert (down.status_code, down.json()["code"]) == (503, "TEMPORARILY_UNAVAILABLE")
            assert "cannot reach the identity provider" in down.json()["error"]
    finally:
        services.close()


def test_a_public_client_signs_in_with_pkce_alone(settings):
    with running_provider(client_secret="") as public:
        services = build(settings.replace(oidc_issuer=public.issuer, oidc_client_id="gannet",
                                          oidc_group_roles="ml-team = default:editor"))
        try:
            with running_server(services, auth=True) as url:
                done = sign_in(url, **JSON)
                assert done.status_code == 200, done.text
                assert done.json()["projects"] == {"default": "editor"}
        finally:
            services.close()


def test_a_client_secret_the_provider_refuses_names_the_settings(sso_settings, idp):
    services = build(sso_settings.replace(oidc_client_secret="stale-secret"))
    try:
        with running_server(services, auth=True) as url:
            refused = sign_in(url)
            assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_SETTING")
            assert "invalid_client" in refused.json()["error"]
            assert "oidc_client_secret" in refused.json()["hint"]
        assert "ana" not in {u.name for u in services.auth.list_users()}
    finally:
        services.close()
