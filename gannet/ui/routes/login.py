"""Logging in and out of the team server's UI (auth on; with ``--no-auth`` and in
``gannet ui`` the login page only sends people on).

A login checks the credentials as the API does (``authenticate``: a user and password,
or an API token; failures are counted and rate limited the same way). A password login
gets a token of its own, valid for 12 hours and revoked at logout; a token login keeps
the token it was given. The token goes in the signed session cookie (HttpOnly,
SameSite=Lax), which ``UiSessions`` turns back into credentials on every request.

With OpenID Connect configured (``oidc_issuer``), the login page also offers single
sign-on: ``/ui/login/sso`` starts the login (``OidcService.begin_login``, this router's
callback as the redirect URI) and remembers its ``state`` and where to go next in a
short signed cookie; ``/ui/login/sso/callback`` checks the state is that browser's (no
one can slip their login into someone else's browser), finishes the login and keeps the
API token it made in the session, as a password login does.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.actor import acting_as
from gannet.core.errors import GannetError, InvalidArgument, Unauthenticated
from gannet.ui.pages import actor_of, form_of, in_thread, page, see_other, services_of
from gannet.ui.session import SESSION_COOKIE, cookie_header

router = APIRouter(prefix="/ui", include_in_schema=False)

SESSION_HOURS = 12
SSO_COOKIE = "gannet_sso"  # the login under way: its state and where to go next
SSO_SECONDS = 600


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if not request.app.state.auth_required:
        return see_other(_safe(next))
    return _login_page(request, _safe(next))


def _login_page(request: Request, next: str, user: str = "", error: GannetError | None = None,
                status_code: int = 200) -> Response:
    sso = services_of(request).oidc.enabled
    return page(request, "login.html.j2", "Log in", status_code=status_code, next=next,
                user=user, error=error, sso=sso)


@router.get("/login/sso")
def sso_begin(request: Request, next: str = "/") -> Response:
    """To the identity provider, remembering this browser's login in a signed cookie."""
    from urllib.parse import parse_qs, urlsplit

    try:
        url = services_of(request).oidc.begin_login(str(request.url_for("ui_sso_callback")),
                                                    ui=True)
    except GannetError as exc:
        return _login_page(request, _safe(next), error=exc, status_code=exc.http_status)
    state = parse_qs(urlsplit(url).query).get("state", [""])[0]
    response = see_other(url)
    signed = request.app.state.ui_key.sign({"state": state, "next": _safe(next)})
    header = cookie_header(SSO_COOKIE, signed, max_age=SSO_SECONDS)
    secure = request.url.scheme == "https"
    response.raw_headers.append((b"set-cookie", header + (b"; Secure" if secure else b"")))
    return response


@router.get("/login/sso/callback", name="ui_sso_callback")
async def sso_callback(request: Request, state: str = "", code: str = "", error: str = "",
                       error_description: str = "") -> Response:
    began = request.app.state.ui_key.load(request.cookies.get(SSO_COOKIE)) or {}
    next = _safe(began.get("next", "/"))
    oidc = services_of(request).oidc
    client = request.client.host if request.client else None

    def finish() -> dict[str, Any]:
        if not state or began.get("state") != state:
            raise Unauthenticated("this sign-on was not started in this browser (or took "
                                  f"longer than {SSO_SECONDS // 60} minutes)",
                                  "start again with the single sign-on button")
        done = oidc.finish_login(oidc.take_login(state), code=code, error=error,
                                 error_description=error_description, address=client)
        return {"token": done.token.secret, "token_id": done.token.token.id}

    try:
        session = await in_thread(finish)
    except GannetError as exc:
        response = _login_page(request, next, error=exc, status_code=exc.http_status)
    else:
        response = _signed_in(request, session, next)
    response.raw_headers.append((b"set-cookie", cookie_header(SSO_COOKIE, "", max_age=0)))
    return response


@router.post("/login")
async def log_in(request: Request) -> Response:
    form: dict[str, str] = {}
    try:
        form = await form_of(request)
        client = request.client.host if request.client else None
        session = await in_thread(_session, services_of(request), form, client)
    except GannetError as exc:
        return _login_page(request, _safe(form.get("next", "/")), form.get("user", ""), exc,
                           exc.http_status)
    return _signed_in(request, session, _safe(form.get("next", "/")))


def _signed_in(request: Request, session: dict[str, Any], next: str) -> Response:
    """To ``next``, with the session cookie holding ``session``'s token."""
    response = see_other(next)
    signed = request.app.state.ui_key.sign(session)
    secure = request.url.scheme == "https"
    header = cookie_header(SESSION_COOKIE, signed, max_age=SESSION_HOURS * 3600)
    response.raw_headers.append((b"set-cookie", header + (b"; Secure" if secure else b"")))
    return response


@router.post("/logout")
async def log_out(request: Request) -> Response:
    await form_of(request)
    session = request.app.state.ui_key.load(request.cookies.get(SESSION_COOKIE)) or {}
    if session.get("token_id") and actor_of(request) is not None:
        await in_thread(services_of(request).auth.revoke_token, session["token_id"])
    response = see_other("/ui/login")
    response.raw_headers.append((b"set-cookie", cookie_header(SESSION_COOKIE, "", max_age=0)))
    return response


def _session(services: Any, form: dict[str, str], client: str | None) -> dict[str, Any]:
    token = form.get("token", "").strip()
    if token:
        services.auth.authenticate(f"Bearer {token}", client)
        return {"token": token}
    user, password = form.get("user", "").strip(), form.get("password", "")
    if not user or not password:
        raise InvalidArgument("give a user name and password, or an API token",
                              "fill in one of the two parts of the form")
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    actor = services.auth.authenticate(f"Basic {basic}", client)
    with acting_as(actor):
        made = services.auth.create_token("ui-session", expires_in=f"{SESSION_HOURS}h")
    return {"token": made.secret, "token_id": made.token.id}


def _safe(target: str) -> str:
    """Only a path of this server (never another site) to go to after logging in."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
