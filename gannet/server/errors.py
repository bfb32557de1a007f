"""Every error the control plane answers, in the inference server's one envelope.

    {"error": "<message>", "code": "<CODE>", "hint": <hint or null>, "request_id": "<id>"}

with the HTTP status of the error's class in ``gannet.core.errors``. FastAPI's own
failures become Gannet errors first: a body that does not validate is a ``BadRequest``
naming the field and what it expected, an unknown route ``EndpointNotFound``, a wrong
method ``MethodNotAllowed``. Anything unexpected is logged with its request id and
answered as 500 ``INTERNAL_ERROR`` naming that id, never with a traceback.

The paths of MLflow's REST API (``/api/2.0/...``) answer the same errors in MLflow's shape
instead (``gannet.server.mlflow.errors``), so MLflow's client raises its own exceptions.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from gannet.core.errors import (
    BadRequest,
    EndpointNotFound,
    GannetError,
    MethodNotAllowed,
    RequestTooLarge,
    Unauthenticated,
)
from gannet.server.mlflow.errors import is_mlflow_path, mlflow_error
from gannet.serving.server.envelope import error_envelope

__all__ = ["error_response", "install_error_handlers"]

logger = logging.getLogger("gannet.server")


def request_id_of(request: Request) -> str:
    return str(request.scope.get("gannet.request_id", ""))


def error_response(exc: BaseException, request_id: str, path: str = "") -> Response:
    """The one envelope; on the paths of MLflow's REST API (``path``), MLflow's shape."""
    if is_mlflow_path(path):
        status, mlflow_body = mlflow_error(exc, request_id)
        body = orjson.dumps(mlflow_body)
    else:
        status, body = error_envelope(exc, request_id)
    headers = {"x-request-id": request_id}
    if isinstance(exc, Unauthenticated):
        headers["www-authenticate"] = 'Bearer realm="gannet", Basic realm="gannet"'
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def gannet_error(request: Request, exc: Exception) -> Response:
        return error_response(exc, request_id_of(request), request.url.path)

    async def invalid_body(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(bad_request(exc.errors()), request_id_of(request),
                              request.url.path)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error: GannetError
        if isinstance(exc.__cause__, GannetError):  # raised while reading the body (413)
            error = exc.__cause__
        elif exc.status_code == 404:
            error = EndpointNotFound(
                f"no route {request.method} {request.url.path}",
                "see the API's routes at /docs (or /openapi.json)",
            )
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}",
                                     "see the API's routes at /docs")
        elif exc.status_code == 413:
            error = RequestTooLarge(str(exc.detail))
        else:
            error = BadRequest(str(exc.detail))
        return error_response(error, request_id_of(request), request.url.path)

    async def unexpected(request: Request, exc: Exception) -> Response:
        request_id = request_id_of(request)
        logger.exception("request %s (%s %s) failed", request_id, request.method,
                         request.url.path)
        return error_response(exc, request_id, request.url.path)

    app.add_exception_handler(GannetError, gannet_error)
    app.add_exception_handler(RequestValidationError, invalid_body)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def bad_request(errors: Any) -> BadRequest:
    """One message naming every field that is wrong and what was expected of it."""
    parts = []
    for error in list(errors)[:10]:
        if error.get("type") == "json_invalid":
            detail = (error.get("ctx") or {}).get("error", "")
            return BadRequest(f"the request body is not valid JSON: {detail} (at character "
                              f"{error.get('loc', ('', '?'))[-1]})",
                              "send a JSON object (content-type: application/json)")
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",)) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return BadRequest("the request is not valid: " + "; ".join(parts),
                      "fix the fields named; the API's schemas are at /docs")
