"""Where ``gannet login --sso`` waits for its token: one HTTP listener on 127.0.0.1.

The browser signs in at the identity provider, the server checks the login, then sends the
browser on to this listener's URL with the new token (or the error) in the query (the
native-app pattern of RFC 8252: only a loopback URL may receive it, which the server
enforces). The URL carries a random ``state`` of its own, so a request that did not come
through this login is ignored. The listener runs on a thread, started before the
browser, so a browser command that waits for its page (``BROWSER``) cannot deadlock it.
"""

from __future__ import annotations

import html
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gannet.core.errors import Unavailable

__all__ = ["LoopbackReceiver"]

PATH = "/callback"


class LoopbackReceiver:
    """``with LoopbackReceiver() as receiver``: ``receiver.redirect_uri`` to hand to the
    server, ``receiver.wait(timeout)`` for what came back (``token``... or ``error``...)."""

    def __init__(self) -> None:
        self.state = secrets.token_urlsafe(24)
        self.result: dict[str, str] | None = None
        self._arrived = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LoopbackReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return  # nothing on the user's terminal

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="gannet-login-loopback")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def redirect_uri(self) -> str:
        assert self._server is not None, "use it in a with block"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}?state={self.state}"

    def wait(self, timeout: float) -> dict[str, str]:
        """What the server sent (``token``, ``token_id``, ``user``, ``expires``; or
        ``error``, ``code``, ``hint``); ``Unavailable`` if nothing came in time."""
        if not self._arrived.wait(timeout) or self.result is None:
            raise Unavailable(f"no sign-in came back within {timeout:g} s",
                              "finish signing in in the browser, or run gannet login --sso "
                              "again (--timeout waits longer)")
        return self.result

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path != PATH or query.get("state") != self.state or self._arrived.is_set():
            _answer(request, 400, "Not this login", "This address waits for one sign-in only.")
            return
        if "token" in query:
            _answer(request, 200, "Signed in",
                    f"Gannet is signed in as {query.get('user', '')}. You can close this tab.")
        else:
            _answer(request, 401, "Sign-in failed",
                    f"{query.get('error', 'unknown error')} ({query.get('hint', '')})")
        self.result = query
        self._arrived.set()


def _answer(request: BaseHTTPRequestHandler, status: int, title: str, text: str) -> None:
    body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Gannet: "
            f"{html.escape(title)}</title></head><body style=\"font-family:sans-serif\">"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>").encode()
    request.send_response(status)
    request.send_header("content-type", "text/html; charset=utf-8")
    request.send_header("content-length", str(len(body)))
    request.send_header("cache-control", "no-store")
    request.end_headers()
    request.wfile.write(body)
