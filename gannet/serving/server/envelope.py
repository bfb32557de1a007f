"""The one shape of every error the inference server answers.

    {"error": "<message>", "code": "<CODE>", "hint": <hint or null>, "request_id": "<id>"}

with the HTTP status of the error's class (``gannet.core.errors``: 400 ``BAD_REQUEST``,
404 ``ENDPOINT_NOT_FOUND`` / ``RESOURCE_DOES_NOT_EXIST``, 405, 408, 413, 422 ``INVALID_INPUT``,
499, 500 ``MODEL_ERROR``, 501, 503 ``NOT_READY``, ...). Anything else is a bug: 500
``INTERNAL_ERROR``, its message naming the request id to find it in the server's log.
``error`` stays a plain string, as the Open Inference Protocol's ``{"error": str}``
says, so V2 clients (tritonclient) print it as it is.
"""

from __future__ import annotations

from typing import Any

import orjson

from gannet.core.errors import GannetError

__all__ = ["error_envelope"]


def error_envelope(exc: BaseException, request_id: str, **fields: Any) -> tuple[int, bytes]:
    """The HTTP status and JSON body answering ``exc``; ``fields`` are added to the body
    (the readiness answer adds ``"ready": false``)."""
    if isinstance(exc, GannetError):
        status, code, message, hint = exc.http_status, exc.code, exc.message, exc.hint
    else:
        status, code, hint = 500, GannetError.code, None
        message = f"{type(exc).__name__}: {exc} (request id {request_id})"
    body = {**fields, "error": message, "code": code, "hint": hint, "request_id": request_id}
    return status, orjson.dumps(body)
