"""What routes are given: the services, the caller, and answers in the one JSON encoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from gannet.core import wire
from gannet.core.actor import Actor

if TYPE_CHECKING:
    from gannet.bootstrap import Services

__all__ = ["API_PREFIX", "ActorDep", "ServicesDep", "answer"]

API_PREFIX = "/api/v1"  # each router declares it (its routes' paths are then whole)


def _services(request: Request) -> Services:
    return request.app.state.services


def _actor(request: Request) -> Actor | None:
    return request.scope.get("gannet.actor")


ServicesDep = Annotated["Services", Depends(_services)]
ActorDep = Annotated[Actor | None, Depends(_actor)]


def answer(obj: Any, status_code: int = 200) -> Response:
    """``obj`` (dataclasses, lists, dicts) as the API's JSON."""
    return Response(wire.dumps(obj), status_code=status_code, media_type="application/json")
