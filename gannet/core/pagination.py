"""Opaque page tokens: an offset bound to the query it belongs to.

A token from one query is refused by another, so a client that changes its filter
between pages gets a clear error instead of a silently wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import json

from gannet.core.errors import InvalidArgument


def query_fingerprint(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, fingerprint: str) -> int:
    """The offset a token stands for (0 for no token)."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        offset, fp = int(data["o"]), data["q"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(
            f"invalid page token {token!r}", "pass the next_page_token of a previous page"
        ) from exc
    if fp != fingerprint or offset < 0:
        raise InvalidArgument(
            "this page token belongs to a different query",
            "repeat the same filter and order_by as the first page, or start without a token",
        )
    return offset
