"""A direct path for the few routes a client calls thousands of times a minute.

MLflow's client logs each metric, param and tag with its own request (``log_metric`` in a
training loop). Through FastAPI such a request is matched against every route of the
API in turn and its dependencies solved before the route runs, which costs more than
storing the point. ``FastRoutes`` serves the routes it is given (``POST`` to a path
without parameters, whose endpoint takes the validated body and the services) by a dict
lookup instead: the body is parsed as FastAPI would (``json`` then the same pydantic
model), the same endpoint function runs in a worker thread, errors become the same
envelope. Every other request, and any of these with a body that is not JSON, goes on to
FastAPI unchanged; the routes stay in the OpenAPI document as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ValidationError

from gannet.core.errors import BadRequest
from gannet.server.errors import bad_request, error_response
from gannet.server.request_stream import whole_body

__all__ = ["FastRoutes"]

Endpoint = Callable[[Any, Any], Any]


class _Template:
    """What the request metrics read of a matched route: its path template."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class FastRoutes:
    def __init__(self, app: Any, services: Any,
                 routes: Iterable[tuple[str, type[BaseModel], Endpoint]]) -> None:
        """``routes``: (path, the body's model, the endpoint taking (body, services))."""
        self.app = app
        self.services = services
        self.routes: dict[str, tuple[type[BaseModel], Endpoint, _Template]] = {
            path: (model, endpoint, _Template(path)) for path, model, endpoint in routes
        }

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        found = self.routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None or scope.get("method") != "POST" or not _sends_json(scope):
            await self.app(scope, receive, send)
            return
        model, endpoint, template = found
        scope["route"] = template
        try:
            body = model.model_validate(_parsed(await whole_body(receive)))
            response = await anyio.to_thread.run_sync(endpoint, body, self.services)
        except ValidationError as exc:
            response = error_response(bad_request(exc.errors()), _request_id(scope),
                                      scope["path"])
        except Exception as exc:  # the envelope of every other route's errors
            response = error_response(exc, _request_id(scope), scope["path"])
        await response(scope, receive, send)


def _sends_json(scope: dict) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)  # as FastAPI reads a body (NaN and Infinity included)
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}",
                         "send a JSON object (content-type: application/json)") from exc


def _request_id(scope: dict) -> str:
    return str(scope.get("gannet.request_id", ""))
