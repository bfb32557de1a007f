"""Browser sessions and CSRF protection: signed cookies, and the ASGI layer that turns a
session into the ``Authorization`` header the server's middleware already understands.

A session cookie holds the API token a login gave the browser, signed (HMAC-SHA256) with
the server's session key, HttpOnly and SameSite=Lax: the server's own check of the token
(revoked, expired, the user disabled) runs on every request, exactly as for the API.
Forms carry a CSRF token equal to a second cookie's random value (double submit), and a
POST whose ``Origin`` is another site is refused before any form is read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from gannet.core import wire

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "SessionKey", "UiSessions", "csrf_ok", "load_key"]

SESSION_COOKIE = "gannet_session"
CSRF_COOKIE = "gannet_csrf"
UI_PREFIX = "/ui/"
PUBLIC_UI = ("/ui/login", "/ui/static/")


def load_key(secret: str, home: Path) -> bytes:
    """The key signing sessions: the ``ui_secret`` setting, else a random key kept in
    ``<home>/keys/ui-session.key`` (made on first use, readable by its owner only)."""
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    path = home / "keys" / "ui-session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # the first process to make it wins; others read it
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return bytes.fromhex(path.read_text().strip())


class SessionKey:
    """Signs and checks cookie values: ``base64(payload).base64(hmac)``."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def sign(self, payload: Mapping[str, Any]) -> str:
        body = base64.urlsafe_b64encode(wire.dumps(dict(payload))).decode().rstrip("=")
        return f"{body}.{self._mac(body)}"

    def load(self, cookie: str | None) -> dict[str, Any] | None:
        """The payload of a cookie this key signed, else None (tampered, foreign, garbage)."""
        if not cookie or "." not in cookie:
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            found = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    def _mac(self, body: str) -> str:
        digest = hmac.new(self.key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_ok(cookies: Mapping[str, str], form: Mapping[str, str]) -> bool:
    """The form's ``csrf`` field equals the CSRF cookie (which other sites cannot read)."""
    expected = cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def is_ui_path(path: str) -> bool:
    return path == "/" or path.startswith(UI_PREFIX) or path == "/ui"


class UiSessions:
    """ASGI layer in front of the server's middleware, for the UI's paths only:
    - a valid session cookie becomes ``Authorization: Bearer <token>``;
    - with auth on, a page asked for without a session redirects to the login page, and a
      session the server refuses (token revoked or expired) does too, clearing it;
    - every UI response gets a CSRF cookie if the browser has none, and headers that keep
      the pages out of other sites' frames.
    Other paths (the API) pass through untouched."""

    def __init__(self, app: Any, key: SessionKey, *, auth: bool) -> None:
        self.app = app
        self.key = key
        self.auth = auth

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not is_ui_path(path):
            await self.app(scope, receive, send)
            return
        cookies = parse_cookies(scope)
        session = self.key.load(cookies.get(SESSION_COOKIE)) if self.auth else None
        public = path.startswith(PUBLIC_UI)
        if self.auth and not public:
            if session is None or not isinstance(session.get("token"), str):
                await _redirect_to_login(scope, send, clear=SESSION_COOKIE in cookies)
                return
            headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"authorization"]
            headers.append((b"authorization", f"Bearer {session['token']}".encode()))
            scope = {**scope, "headers": headers}
        new_csrf = None if cookies.get(CSRF_COOKIE) else secrets.token_urlsafe(24)
        if new_csrf is not None:
            scope = {**scope, "gannet.csrf": new_csrf}
        refused = False

        async def send_ui(message: dict) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                if message["status"] == 401 and self.auth and not public:
                    refused = True
                    await _redirect_to_login(scope, send, clear=True)
                    return
                headers = list(message.get("headers") or ())
                headers += [(b"x-frame-options", b"SAMEORIGIN"),
                            (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin")]
                if new_csrf is not None:
                    headers.append((b"set-cookie", cookie_header(CSRF_COOKIE, new_csrf,
                                                                 samesite="Strict")))
                message["headers"] = headers
            elif refused:
                return
            await send(message)

        await self.app(scope, receive, send_ui)


def parse_cookies(scope: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, sep, val = part.strip().partition("=")
                if sep:
                    found.setdefault(key, val)
    return found


def cookie_header(name: str, value: str, *, samesite: str = "Lax", max_age: int | None = None,
                  http_only: bool = True) -> bytes:
    parts = [f"{name}={value}", "Path=/", f"SameSite={samesite}"]
    if http_only:
        parts.append("HttpOnly")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts).encode("latin-1")


async def _redirect_to_login(scope: Mapping[str, Any], send: Any, *, clear: bool) -> None:
    from urllib.parse import quote

    wanted = scope.get("path", "/")
    if scope.get("query_string"):
        wanted += "?" + scope["query_string"].decode("latin-1")
    headers = [(b"location", f"/ui/login?next={quote(wanted, safe='')}".encode()),
               (b"content-length", b"0")]
    if clear:
        headers.append((b"set-cookie", cookie_header(SESSION_COOKIE, "", max_age=0)))
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
