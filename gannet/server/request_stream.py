"""A request's body as a blocking binary stream, for stores that read files.

An upload route hands the body to a blob store running in a worker thread; the store
reads it like a file while the event loop receives it, one chunk at a time, so a large
upload never sits in memory.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import anyio.from_thread
from starlette.requests import ClientDisconnect, Request

from gannet.core.errors import BadRequest

__all__ = ["RequestStream", "whole_body"]


class RequestStream(io.RawIOBase):
    """``request``'s body, read from a thread that ``anyio.to_thread`` started."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        self._chunks: AsyncIterator[bytes] = request.stream().__aiter__()
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer and not self._done:
            try:
                self._buffer = anyio.from_thread.run(self._next)
            except StopAsyncIteration:
                self._done = True
        count = min(len(buffer), len(self._buffer))
        buffer[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    async def _next(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except ClientDisconnect:
            raise BadRequest("the client went away before the upload ended",
                             "upload the file again") from None


async def whole_body(receive: Any) -> bytes:
    """A request's whole body from an ASGI ``receive`` (for bodies held to the server's
    limit: every route's but the uploads')."""
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(parts)
