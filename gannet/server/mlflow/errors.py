"""Errors in MLflow's shape, so the ``mlflow`` client raises its usual exceptions.

MLflow answers ``{"error_code": "<NAME>", "message": "..."}``; its client turns that into
an ``MlflowException`` (a ``RestException``) whose ``error_code`` is the name, and it
branches on the name (``RESOURCE_DOES_NOT_EXIST`` is "none" for ``get-by-name``,
``RESOURCE_ALREADY_EXISTS`` is fine when registering a model). Our codes already are
MLflow's names where MLflow has the concept (``gannet.core.errors``); the rest map to the
MLflow name a client handles the same way.

The status matters as much as the name: the client retries 408, 429, 500, 502, 503 and
504 with back-off. So an error that trying again cannot fix never answers 5xx here, even
where MLflow's own table says 500 (``INVALID_STATE``, e.g. logging to a deleted run):
it is ``INVALID_PARAMETER_VALUE`` with 400, as MLflow's server answers that case.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from gannet.core.errors import GannetError

__all__ = ["MLFLOW_PREFIXES", "is_mlflow_path", "mlflow_error", "mlflow_error_response"]

# Every path MLflow's REST API owns (its UI's ``/ajax-api`` twin too): errors there come
# in MLflow's shape, whichever part of the server raised them.
MLFLOW_PREFIXES = ("/api/2.0/", "/api/3.0/", "/ajax-api/")

# Our code -> (MLflow's error_code, HTTP status). Codes not listed keep their name and
# our status (they are MLflow's names already).
_MLFLOW_CODES: dict[str, tuple[str, int]] = {
    "INVALID_PARAMETER_VALUE": ("INVALID_PARAMETER_VALUE", 400),
    "INVALID_INPUT": ("INVALID_PARAMETER_VALUE", 400),
    "BAD_REQUEST": ("INVALID_PARAMETER_VALUE", 400),
    "REQUEST_TOO_LARGE": ("INVALID_PARAMETER_VALUE", 413),
    "METHOD_NOT_ALLOWED": ("ENDPOINT_NOT_FOUND", 405),
    "UNSUPPORTED_MEDIA_TYPE": ("BAD_REQUEST", 415),
    "INVALID_SETTING": ("INVALID_PARAMETER_VALUE", 400),
    "RESOURCE_ALREADY_EXISTS": ("RESOURCE_ALREADY_EXISTS", 400),  # MLflow's status, not 409
    # the only conflicts the MLflow face meets are params logged again with a new value,
    # which MLflow calls an invalid parameter value
    "RESOURCE_CONFLICT": ("INVALID_PARAMETER_VALUE", 400),
    "INVALID_STATE": ("INVALID_PARAMETER_VALUE", 400),
    "SCHEMA_TOO_NEW": ("INTERNAL_ERROR", 500),
    "STORE_UNAVAILABLE": ("TEMPORARILY_UNAVAILABLE", 503),
    "STORE_LOCKED": ("TEMPORARILY_UNAVAILABLE", 503),
    "NOT_READY": ("TEMPORARILY_UNAVAILABLE", 503),
    "MODEL_ERROR": ("INTERNAL_ERROR", 500),
    "CLIENT_CLOSED_REQUEST": ("ABORTED", 499),
    "REQUEST_TIMEOUT": ("DEADLINE_EXCEEDED", 408),
}


def is_mlflow_path(path: str) -> bool:
    return path.startswith(MLFLOW_PREFIXES)


def mlflow_error(exc: BaseException, request_id: str) -> tuple[int, dict[str, str]]:
    """The HTTP status and MLflow body answering ``exc``."""
    if isinstance(exc, GannetError):
        code, status = _MLFLOW_CODES.get(exc.code, (exc.code, exc.http_status))
        return status, {"error_code": code, "message": str(exc), "request_id": request_id}
    message = f"{type(exc).__name__}: {exc} (request id {request_id})"
    return 500, {"error_code": "INTERNAL_ERROR", "message": message, "request_id": request_id}


def mlflow_error_response(exc: BaseException, request_id: str) -> Response:
    status, body = mlflow_error(exc, request_id)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"x-request-id": request_id})
