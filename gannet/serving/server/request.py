"""One HTTP request as the inference server's handlers see it, and reading its body.

``Call`` holds the ASGI scope, the headers and the request id (the caller's
``x-request-id`` when it is printable and at most 200 characters, else one made on first
use), and collects what the answer names (model, version, route for the metrics).
``read_json`` reads the body up to a limit: over it is ``RequestTooLarge`` (413), a client
that leaves is ``ClientClosedRequest`` (499), one whose body does not arrive within the
read timeout ``RequestTimeout`` (408: the connection's ``tcp.ReadDeadline`` marks the
request and wakes the read), a body that is not JSON ``BadRequest`` (400).

A body sent with ``Content-Encoding: gzip`` is decompressed here, for every route, and the
limit holds for what it decompresses to as well: decompression stops one byte past the
limit, so a small gzip bomb costs the server ``limit`` bytes, never more, and answers 413.
Another encoding is ``UnsupportedMediaType`` (415).
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from gannet.core.errors import (
    BadRequest,
    ClientClosedRequest,
    RequestTimeout,
    RequestTooLarge,
    UnsupportedMediaType,
)
from gannet.serving.server.tcp import READ_TIMED_OUT

__all__ = [
    "MAX_REQUEST_ID", "Call", "flag", "gunzip", "media_type", "read_body", "read_json",
    "request_id",
]

MAX_REQUEST_ID = 200  # characters of a caller's request id the server takes


@dataclass(slots=True)
class Call:
    """One HTTP request as the handlers see it, and what the answer names."""

    scope: dict
    receive: Callable
    headers: dict[str, str]
    rid: str | None
    model: str = ""
    version: str = ""
    route: str = "other"
    answer_headers: Sequence[tuple[bytes, bytes]] = ()  # more headers for the answer

    @property
    def request_id(self) -> str:
        if self.rid is None:
            self.rid = uuid.uuid4().hex
        return self.rid

    def query(self, name: str) -> str | None:
        raw = self.scope.get("query_string") or b""
        values = parse_qs(raw.decode("latin-1")).get(name) if raw else None
        return values[-1] if values else None


def request_id(value: str | None) -> str | None:
    """A caller's request id when it can be echoed as it is, else None."""
    if value and len(value) <= MAX_REQUEST_ID and value.isprintable():
        return value
    return None


def flag(value: Any) -> bool:
    """A query parameter or JSON field read as a yes/no flag."""
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true", "yes"))


def media_type(call: Call) -> str:
    """The request's ``Content-Type`` without its parameters, lower case ('' when none)."""
    return call.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_body(call: Call, limit: int) -> bytes:
    """The request body (decompressed when gzip-encoded), refused as soon as it is known to
    be over ``limit`` bytes, sent or decompressed."""
    body = await _read_raw(call, limit)
    encoding = call.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return gunzip(body, limit)
    raise UnsupportedMediaType(f"the request body has Content-Encoding {encoding!r}, which "
                               "this server does not read",
                               "send it as it is, or gzip-compressed (Content-Encoding: gzip)")


def gunzip(data: bytes, limit: int) -> bytes:
    """``data`` (one gzip member or several) decompressed, at most ``limit`` bytes of it."""
    parts: list[bytes] = []
    size = 0
    while data:
        member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            part = member.decompress(data, limit - size + 1)
        except zlib.error as exc:
            raise BadRequest(f"the request body is not valid gzip: {exc}",
                             "compress it with gzip, or leave out Content-Encoding") from None
        size += len(part)
        if size > limit:
            raise RequestTooLarge(
                f"the request body decompresses to over the limit of {limit} bytes",
                "send fewer rows per request")
        if not member.eof:
            raise BadRequest("the gzip request body is cut short",
                             "send the whole compressed body")
        parts.append(part)
        data = member.unused_data
    return b"".join(parts)


async def _read_raw(call: Call, limit: int) -> bytes:
    """The request body as sent, refused as soon as it is known to be over ``limit``."""
    declared = call.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"the request body has {declared} bytes; the limit is {limit}",
                              "send fewer rows per request")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await call.receive()
        if message["type"] == "http.disconnect":
            raise ClientClosedRequest("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the request body is over the limit of {limit} bytes",
                                  "send fewer rows per request")
        if not message.get("more_body", False):
            if not chunks:
                return chunk
            chunks.append(chunk)
            return b"".join(chunks)
        if call.scope.get(READ_TIMED_OUT):
            raise RequestTimeout(f"the request body did not arrive in time ({size} bytes came)",
                                 "send the whole request at once, or raise --read-timeout")
        chunks.append(chunk)


async def read_json(call: Call, limit: int) -> Any:
    """The request body parsed as JSON."""
    body = await read_body(call, limit)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
