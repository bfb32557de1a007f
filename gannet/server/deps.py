"""What routes are given: the services, the caller, and answers in the one JSON encoding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

from fastapi import Depends, Request
from starlette.responses import Response, StreamingResponse

from gannet.core import wire
from gannet.core.actor import Actor
from gannet.core.digests import CHUNK

if TYPE_CHECKING:
    from gannet.bootstrap import Services

__all__ = ["API_PREFIX", "ActorDep", "ServicesDep", "answer", "streamed"]

API_PREFIX = "/api/v1"  # each router declares it (its routes' paths are then whole)


def _services(request: Request) -> Services:
    return request.app.state.services


def _actor(request: Request) -> Actor | None:
    return request.scope.get("gannet.actor")


ServicesDep = Annotated["Services", Depends(_services)]
ActorDep = Annotated[Actor | None, Depends(_actor)]


def streamed(reader: BinaryIO, size: int, **headers: str) -> StreamingResponse:
    """A stored file's bytes, in chunks (Starlette runs the reading in a thread). The first
    chunk (a whole file of up to 1 MiB, checked against its digest by the store's reader)
    is read before the answer starts, so damaged bytes are answered ``INTEGRITY_ERROR``; a
    larger file found damaged at its end is cut short, so the client sees an incomplete
    file, never bad bytes as good ones (and checks every digest itself anyway)."""
    try:
        first = reader.read(CHUNK)
    except BaseException:
        reader.close()
        raise

    def chunks() -> Iterator[bytes]:
        with reader:
            chunk = first
            while chunk:
                yield chunk
                chunk = reader.read(CHUNK)

    return StreamingResponse(chunks(), media_type="application/octet-stream",
                             headers={"content-length": str(size), **headers})


def answer(obj: Any, status_code: int = 200) -> Response:
    """``obj`` (dataclasses, lists, dicts) as the API's JSON."""
    return Response(wire.dumps(obj), status_code=status_code, media_type="application/json")
