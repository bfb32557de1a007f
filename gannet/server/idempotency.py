"""``Idempotency-Key``: a retried POST is answered once, with the first attempt's answer.

A client that lost the answer to a POST (a dropped connection, a gateway's 502) cannot
know whether the server acted. It sends the same ``Idempotency-Key`` with each attempt;
this ASGI layer claims the key (scoped by the caller) before the route runs and keeps the
answer after it, so a retry gets that answer (with ``idempotent-replayed: true``) instead
of registering a second model version or minting a second token. A key reused for a
different request is refused; a retry that arrives while the first attempt still runs is
told to retry (503, which clients retry). Answers of 5xx are not kept: the key is let go
so that a retry acts afresh. Requests without the header pass straight through; tracking's
writes do not need it (their batches carry ids claimed in their own transaction).
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio.to_thread

from gannet.core.errors import InvalidArgument, Unavailable
from gannet.server.errors import error_response
from gannet.server.request_stream import whole_body
from gannet.store.replies.service import ReplyStore

__all__ = ["IdempotentPosts"]

_HEADER = b"idempotency-key"
_MAX_KEY = 200


class IdempotentPosts:
    def __init__(self, app: Any, replies: ReplyStore, *, prefix: str,
                 streaming_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.replies = replies
        self.prefix = prefix
        self.streaming_prefixes = streaming_prefixes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        request_id = scope.get("gannet.request_id", "")
        path = scope.get("path", "")
        try:
            body = await whole_body(receive)
            fingerprint = _fingerprint(scope, body)
            if not 0 < len(key) <= _MAX_KEY:
                raise InvalidArgument(
                    f"the Idempotency-Key header must be 1 to {_MAX_KEY} characters",
                    "send a random id (a UUID) that stays the same across retries")
            scoped = f"{_caller(scope)}:{key}"
            earlier = await anyio.to_thread.run_sync(self.replies.claim, scoped, fingerprint)
        except Exception as exc:
            await error_response(exc, request_id, path)(scope, receive, send)
            return
        if earlier is None:
            await self._act(scope, body, send, scoped)
        elif earlier.fingerprint != fingerprint:
            await error_response(InvalidArgument(
                "this Idempotency-Key was sent before with a different request",
                "use a new key for each request; keep it only across retries of one"),
                request_id, path)(scope, receive, send)
        elif not earlier.answered:
            await error_response(Unavailable(
                "the first attempt of this request is still running",
                "retry in a moment: its answer will be given then"),
                request_id, path)(scope, receive, send)
        else:
            await _replay(send, earlier.status, earlier.content_type, earlier.body)

    def _key(self, scope: dict) -> str | None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return None
        path: str = scope.get("path", "")
        if not path.startswith(self.prefix) or path.startswith(self.streaming_prefixes):
            return None
        for name, value in scope.get("headers") or ():
            if name.lower() == _HEADER:
                return str(value.decode("latin-1"))
        return None

    async def _act(self, scope: dict, body: bytes, send: Any, key: str) -> None:
        """Run the route on the buffered body; keep its answer (unless the server failed)
        before the caller sees it, so a retry can never arrive before the answer is kept."""
        messages: list[dict] = []
        sent = False

        async def receive() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def hold(message: dict) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await anyio.to_thread.run_sync(self.replies.release, key)
            raise
        start = next((m for m in messages if m["type"] == "http.response.start"), {})
        status = int(start.get("status", 500))
        if status >= 500:
            await anyio.to_thread.run_sync(self.replies.release, key)
        else:
            content_type = next((v.decode("latin-1") for n, v in start.get("headers", ())
                                 if n.lower() == b"content-type"), "application/json")
            answer = b"".join(m.get("body", b"") for m in messages
                              if m["type"] == "http.response.body")
            await anyio.to_thread.run_sync(self.replies.keep, key, status, content_type, answer)
        for message in messages:
            await send(message)


def _fingerprint(scope: dict, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope.get("path", "").encode(), scope.get("query_string", b""), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _caller(scope: dict) -> str:
    """Keys are per caller: one user's key can never fetch another's answer."""
    actor = scope.get("gannet.actor")
    return actor.user if actor is not None else "anonymous"


async def _replay(send: Any, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]})
    await send({"type": "http.response.body", "body": body})
