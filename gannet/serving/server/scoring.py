"""MLflow's scoring protocol, so clients of ``mlflow models serve`` and SageMaker work unchanged.

- ``POST /invocations``: a JSON object with exactly one of ``dataframe_split``
  (``{"columns", "data", "index"?}``), ``dataframe_records`` (a list of records),
  ``instances`` (records, or rows) or ``inputs`` (``{column: [values]}``, or rows), and an
  optional ``params`` (accepted, not used: no Gannet model takes them); or a CSV body
  (``Content-Type: text/csv``). The answer is MLflow's, ``{"predictions": [...]}``, with
  the usual ``x-request-id``, ``x-model-name`` and ``x-model-version`` headers. A body
  in another content type is 415, as MLflow answers it.
- ``GET /ping`` and ``GET /health``: 200 when the models are loaded, 503 before (what
  SageMaker's and load balancers' health checks ask).

Errors have MLflow's shape, ``{"error_code", "message"}`` (with Gannet's ``hint`` and
``request_id`` beside them). Input the signature refuses is MLflow's 400
``INVALID_PARAMETER_VALUE`` (``/predict`` answers it 422 ``INVALID_INPUT``); the models
not loaded yet are 503 ``TEMPORARILY_UNAVAILABLE``; the other errors keep their Gannet
status and code.
"""

from __future__ import annotations

from typing import Any

import orjson

from gannet.core.errors import BadRequest, GannetError, InvalidInput, NotReady
from gannet.serving.server.bodies import Decode, read_prediction_body
from gannet.serving.server.codecs import Codec
from gannet.serving.server.inference import JSON, Answer, InferenceEndpoints, predictions
from gannet.serving.server.request import Call

__all__ = ["FORMATS", "MlflowScoring", "mlflow_decoder", "mlflow_error"]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_DUMP = orjson.OPT_SERIALIZE_NUMPY


class MlflowScoring:
    """``POST /invocations`` over the server's inference endpoints."""

    def __init__(self, inference: InferenceEndpoints, max_body_bytes: int) -> None:
        self.inference = inference
        self.max_body_bytes = max_body_bytes

    async def invocations(self, call: Call) -> Answer:
        body = await read_prediction_body(call, self.max_body_bytes, mlflow_decoder,
                                          strict=True)
        _, prediction = await self.inference.answer(call, body.doc, body.decode, False)
        answer = {"predictions": predictions(prediction.outputs)}
        return 200, orjson.dumps(answer, option=_DUMP), JSON


def mlflow_decoder(doc: Any) -> Decode:
    """How a version's codec reads an ``/invocations`` JSON body."""
    if not isinstance(doc, dict):
        what = "a list" if isinstance(doc, list) else f"a JSON {type(doc).__name__}"
        raise BadRequest(f"an /invocations body is a JSON object with exactly one of "
                         f"{', '.join(FORMATS)}; this one is {what}",
                         'wrap the rows, as in {"dataframe_records": [...]}, or POST them '
                         "to /predict")
    found = [key for key in FORMATS if key in doc]
    if len(found) != 1:
        keys = ", ".join(map(repr, doc)) or "none"
        raise BadRequest(f"an /invocations body has exactly one of {', '.join(FORMATS)}; "
                         f"this one has the fields {keys}",
                         'send e.g. {"dataframe_split": {"columns": [...], "data": [...]}}')
    key = found[0]
    value = doc[key]

    def decode(codec: Codec) -> Any:
        if key == "inputs" and isinstance(value, dict):
            return codec.from_mapping(value, key)
        if key in ("inputs", "instances", "dataframe_records"):
            return codec.from_list(value, key)
        return codec.from_predict({key: value})

    return decode


def mlflow_error(exc: BaseException, request_id: str) -> tuple[int, bytes]:
    """MLflow's error answer for ``exc``: its status and ``{"error_code", "message"}``."""
    if isinstance(exc, GannetError):
        status, code, message, hint = exc.http_status, exc.code, exc.message, exc.hint
        if isinstance(exc, InvalidInput):
            status, code = 400, "INVALID_PARAMETER_VALUE"
        elif isinstance(exc, NotReady):
            code = "TEMPORARILY_UNAVAILABLE"
    else:
        status, code, hint = 500, GannetError.code, None
        message = f"{type(exc).__name__}: {exc} (request id {request_id})"
    body = {"error_code": code, "message": message, "hint": hint, "request_id": request_id}
    return status, orjson.dumps(body)
