"""Cross-origin requests (CORS) and the access log: what the server adds around each answer.

``Cors`` holds the origins whose web pages may call the server (``--cors-origins``, or the
``serving_cors_origins`` setting; ``*`` is any). Off by default: then no CORS header is
sent and a browser keeps other sites' pages from reading the answers. When on:

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) from an
  allowed origin is answered 204 with the methods (``GET, POST, OPTIONS``), the headers the
  page asked to send, and ``Access-Control-Max-Age``; from another origin it is 403
  ``PERMISSION_DENIED``, naming the origin;
- every answer to an allowed origin carries ``Access-Control-Allow-Origin`` and exposes
  ``x-request-id``, ``x-model-name`` and ``x-model-version`` to the page.

``access_line`` is one line of the opt-in access log (``--access-log``): client, method,
path, status, duration in milliseconds and request id, on the ``gannet.serving.access``
logger.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping

from gannet.core.errors import InvalidArgument, PermissionDenied

__all__ = ["ACCESS_LOGGER", "Cors", "access_line", "parse_origins", "use_access_log"]

ACCESS_LOGGER = "gannet.serving.access"
_METHODS = b"GET, POST, OPTIONS"
_EXPOSED = b"x-request-id, x-model-name, x-model-version"
_DEFAULT_HEADERS = "content-type, content-encoding, x-request-id"
_MAX_AGE = b"600"
Headers = list[tuple[bytes, bytes]]


def parse_origins(value: str | Iterable[str]) -> tuple[str, ...]:
    """``https://a.example,https://b.example`` (or a list) as origins; ``*`` is any."""
    items = value.split(",") if isinstance(value, str) else list(value)
    origins = tuple(dict.fromkeys(o.strip().rstrip("/") for o in items if o.strip()))
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise InvalidArgument(f"CORS origin {origin!r} is not an origin",
                                  "write it as scheme://host[:port], e.g. "
                                  "https://app.example.com, or * for any")
    return origins


class Cors:
    """The CORS answers for a set of allowed origins (none: CORS is off)."""

    def __init__(self, origins: Iterable[str] = ()) -> None:
        self.origins = frozenset(origins)
        self.any = "*" in self.origins

    @property
    def on(self) -> bool:
        return bool(self.origins)

    def allows(self, origin: str) -> bool:
        return self.any or origin in self.origins

    def is_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return (self.on and method == "OPTIONS" and "origin" in headers
                and "access-control-request-method" in headers)

    def preflight(self, headers: Mapping[str, str]) -> Headers:
        """The headers of a preflight's 204, or PermissionDenied for another origin."""
        origin = headers["origin"]
        if not self.allows(origin):
            raise PermissionDenied(f"origin {origin!r} may not call this server",
                                   "add it to --cors-origins (the serving_cors_origins "
                                   "setting)")
        asked = headers.get("access-control-request-headers", _DEFAULT_HEADERS)
        return [*self._allow(origin),
                (b"access-control-allow-methods", _METHODS),
                (b"access-control-allow-headers", asked.encode("latin-1")),
                (b"access-control-max-age", _MAX_AGE)]

    def answer_headers(self, headers: Mapping[str, str]) -> Headers:
        """What an answer adds for the request's origin (nothing when not allowed)."""
        origin = headers.get("origin")
        if origin is None or not self.allows(origin):
            return []
        return [*self._allow(origin), (b"access-control-expose-headers", _EXPOSED)]

    def _allow(self, origin: str) -> Headers:
        if self.any:
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin")]


def access_line(client: tuple[str, int] | None, method: str, path: str, status: int,
                seconds: float, request_id: str) -> str:
    """One request in the access log."""
    who = f"{client[0]}:{client[1]}" if client else "-"
    return f'{who} "{method} {path}" {status} {seconds * 1000:.1f}ms {request_id}'


def use_access_log() -> logging.Logger:
    """The access logger, writing to stderr at INFO whatever the server's log level."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
