"""What every request to the control plane passes through before its route.

One ASGI middleware (not a stack of them: each layer costs a coroutine per request) that
1. gives the request an id (the caller's ``X-Request-ID`` when sane, else a new one) and
   returns it in ``x-request-id``;
2. refuses a body over the server's limit with 413, whether it announces its length or
   streams it (upload routes stream to the blob store and have no limit);
3. authenticates the caller (``recall(authorization, address)``: a token seen in the last
   seconds, from memory; else ``authenticate(authorization, address) -> Actor``, run in a
   thread since it reads the store) and runs the route ``acting_as`` them, so the audit
   log, a run's user and every permission check know who it is. Public paths (health,
   readiness, metrics, the API's docs, logging in) need no credentials.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection
from typing import Any

import anyio.to_thread

from gannet.core.actor import Actor, acting_as
from gannet.core.errors import GannetError, RequestTooLarge
from gannet.server.errors import error_response

__all__ = ["Authenticate", "ServerMiddleware"]

Authenticate = Callable[[str | None, str | None], Actor]
Recall = Callable[[str | None, str | None], Actor | None]  # in memory only: no thread needed
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ServerMiddleware:
    def __init__(
        self,
        app: Any,
        *,
        authenticate: Authenticate,
        max_body_bytes: int,
        public_paths: Collection[str] = (),
        public_prefixes: tuple[str, ...] = (),
        streaming_prefixes: tuple[str, ...] = (),
        recall: Recall | None = None,
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.recall = recall
        self.max_body_bytes = max_body_bytes
        self.public_paths = frozenset(public_paths)
        self.public_prefixes = public_prefixes
        self.streaming_prefixes = streaming_prefixes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        scope["gannet.request_id"] = request_id

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        path: str = scope.get("path", "")
        try:
            receive = self._limited(path, headers, receive)
            actor = await self._actor(path, headers, scope)
        except GannetError as exc:
            await error_response(exc, request_id, path)(scope, receive, send)
            return
        scope["gannet.actor"] = actor
        with acting_as(actor):
            await self.app(scope, receive, send_with_id)

    async def _actor(self, path: str, headers: dict, scope: dict) -> Actor | None:
        public = path in self.public_paths or path.startswith(self.public_prefixes)
        authorization = headers.get(b"authorization")
        if public and authorization is None:
            return None
        client = scope.get("client")
        address = client[0] if client else None
        header = authorization.decode("latin-1") if authorization is not None else None
        if self.recall is not None and (known := self.recall(header, address)) is not None:
            return known
        return await anyio.to_thread.run_sync(self.authenticate, header, address)

    def _limited(self, path: str, headers: dict, receive: Any) -> Any:
        if path.startswith(self.streaming_prefixes):
            return receive
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise self._too_large()
        seen = 0
        limit = self.max_body_bytes

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise self._too_large()
            return message

        return limited

    def _too_large(self) -> RequestTooLarge:
        return RequestTooLarge(
            f"the request body is over the server's limit of {self.max_body_bytes} bytes",
            "send less per request (log in batches; upload files as artifacts), or raise "
            "the server_max_body setting",
        )
