"""``/api/v1/oidc``: single sign-on with OpenID Connect (public: no credentials needed).

- ``GET /oidc/login`` redirects the browser to the identity provider (``redirect_uri``: a
  loopback URL of ``gannet login --sso`` to hand the token to).
- ``GET /oidc/callback`` is where the provider sends it back: the login is checked and
  the new API token is shown once on a small page (as JSON to a client that asks for it
  with ``Accept: application/json``), or handed to the CLI's loopback URL.

Both are one ``OidcService`` call each; what is left here is HTTP: redirects, the page.
Errors are the one JSON envelope, except when a CLI waits on its loopback URL: then the
error goes there (``error``, ``code``, ``hint``), so that the CLI can say what failed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gannet.core.errors import GannetError
from gannet.server.deps import API_PREFIX, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["single sign-on"])

_PRIVATE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


@router.get("/oidc/login", summary="Sign in with the identity provider (a redirect to it)")
def oidc_login(
    request: Request,
    services: ServicesDep,
    redirect_uri: Annotated[str | None, Query(
        description="a loopback URL (http://127.0.0.1:PORT/...) that receives the token "
                    "instead of a page; gannet login --sso passes one")] = None,
) -> Response:
    url = services.oidc.begin_login(str(request.url_for("oidc_callback")), redirect_uri)
    return RedirectResponse(url, status_code=302, headers=_PRIVATE)


@router.get("/oidc/callback", summary="Where the identity provider sends the browser back")
def oidc_callback(
    request: Request,
    services: ServicesDep,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    login = services.oidc.take_login(state)
    address = request.client.host if request.client else None
    try:
        done = services.oidc.finish_login(login, code=code, error=error,
                                          error_description=error_description,
                                          address=address)
    except GannetError as failed:
        if login.client_redirect is None:
            raise
        return RedirectResponse(_with_query(login.client_redirect, {
            "error": failed.message, "code": failed.code, "hint": failed.hint or ""}),
            status_code=302, headers=_PRIVATE)
    token = done.token.token
    if login.client_redirect is not None:
        return RedirectResponse(_with_query(login.client_redirect, {
            "token": done.token.secret, "token_id": token.id, "user": done.user,
            "expires": str(token.expires or "")}), status_code=302, headers=_PRIVATE)
    if "application/json" in request.headers.get("accept", ""):
        return answer({"user": done.user, "admin": done.admin, "projects": done.projects,
                       "groups": done.groups, "token": token, "secret": done.token.secret})
    return HTMLResponse(_page(done.user, done.token.secret, token.expires, done.projects,
                              done.admin), headers=_PRIVATE)


def _with_query(url: str, values: dict[str, str]) -> str:
    """``url`` with ``values`` added to its query (keeping what it had, e.g. the CLI's
    own state)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *values.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(user: str, secret: str, expires: int | None, projects: Mapping[str, str],
          admin: bool) -> str:
    """The token, once, and how to use it: the one place a browser login shows it."""
    roles = ", ".join(f"{p}: {r}" for p, r in sorted(projects.items()))
    until = (datetime.fromtimestamp(expires / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
             if expires else "never")
    e = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gannet: signed in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}}
code,pre{{background:#f3f3f3;padding:.2rem .4rem;border-radius:4px;word-break:break-all}}
pre{{padding:.8rem;white-space:pre-wrap}}</style></head>
<body><h1>Signed in as {e(user)}</h1>
<p>Your Gannet API token (shown this once; it expires {e(until)}):</p>
<pre id="token">{e(secret)}</pre>
<p>Use it with the SDK and the CLI:</p>
<pre>export GANNET_TOKEN={e(secret)}</pre>
<p>Administrator: {"yes" if admin else "no"}. Projects: {e(roles) or "none"}.</p>
<p>Next time, <code>gannet login --sso</code> does this for you and keeps the token.</p>
</body></html>
"""
