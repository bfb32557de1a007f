"""Logging in and out of the team server's UI (auth on; with ``--no-auth`` and in
``gannet ui`` the login page only sends people on).

A login checks the credentials as the API does (``authenticate``: a user and password,
or an API token; failures are counted and rate limited the same way). A password login
gets a token of its own, valid for 12 hours and revoked at logout; a token login keeps
the token it was given. The token goes in the signed session cookie (HttpOnly,
SameSite=Lax), which ``UiSessions`` turns back into credentials on every request.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.actor import acting_as
from gannet.core.errors import GannetError, InvalidArgument
from gannet.ui.pages import actor_of, form_of, in_thread, page, see_other, services_of
from gannet.ui.session import SESSION_COOKIE, cookie_header

router = APIRouter(prefix="/ui", include_in_schema=False)

SESSION_HOURS = 12


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if not request.app.state.auth_required:
        return see_other(_safe(next))
    return page(request, "login.html.j2", "Log in", next=_safe(next), user="", error=None)


@router.post("/login")
async def log_in(request: Request) -> Response:
    form: dict[str, str] = {}
    try:
        form = await form_of(request)
        client = request.client.host if request.client else None
        session = await in_thread(_session, services_of(request), form, client)
    except GannetError as exc:
        return page(request, "login.html.j2", "Log in", status_code=exc.http_status,
                    next=_safe(form.get("next", "/")), user=form.get("user", ""), error=exc)
    response = see_other(_safe(form.get("next", "/")))
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
