"""The inference server's OpenAPI 3 document, with ``/predict`` typed by the signature.

``predict_schemas`` gives the JSON schemas of a ``/predict`` body (records, columns, rows)
for a signature; ``openapi_document`` puts them in the document ``GET /openapi.json``
answers, with the error envelope every error answer has.
"""

from __future__ import annotations

from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.models.signature import TEXT, Signature, numpy_dtype

__all__ = ["openapi_document", "predict_schemas"]


def _json_type(dtype: str) -> dict[str, Any]:
    if dtype in TEXT:
        return {"type": "string"}
    try:
        kind = numpy_dtype(dtype).kind
    except InvalidArgument:
        return {}
    types: dict[str, dict[str, Any]] = {
        "b": {"type": "boolean"}, "i": {"type": "integer"}, "u": {"type": "integer", "minimum": 0},
        "f": {"type": "number"}, "M": {"type": "string", "format": "date-time"},
    }
    return types.get(kind, {})


def predict_schemas(signature: Signature | None) -> dict[str, Any]:
    """JSON schemas of a ``/predict`` body for ``signature``: records, columns and rows."""
    if signature is None:
        return {"PredictRequest": {"oneOf": [{"type": "array", "items": {"type": "object"}},
                                             {"type": "object"}]}}
    schema = signature.inputs
    if schema.kind == "tensor":
        rows = {"type": "array", "items": {"type": "array", "items": {}}}
        return {"PredictRequest": {"oneOf": [rows, {"type": "object", "properties": {
            "inputs": rows if len(schema.columns) == 1 else {"type": "object"}}}]}}
    properties = {c.name: _json_type(c.dtype) for c in schema.columns}
    record = {"type": "object", "properties": properties, "required": list(properties),
              "additionalProperties": False}
    columns = {"type": "object", "properties": {
        name: {"type": "array", "items": spec} for name, spec in properties.items()},
        "required": list(properties), "additionalProperties": False}
    records = {"type": "array", "items": {"$ref": "#/components/schemas/Record"},
               "minItems": 1}
    return {
        "Record": record,
        "Columns": columns,
        "PredictRequest": {"oneOf": [records, {
            "type": "object", "properties": {
                "records": records,
                "columns": {"$ref": "#/components/schemas/Columns"},
                "probabilities": {"type": "boolean"}}}]},
    }


def openapi_document(signature: Signature | None, model: str) -> dict[str, Any]:
    """OpenAPI 3 for the inference server, with ``/predict`` typed by ``signature``."""
    from gannet.core.version import VERSION as __version__

    schemas = predict_schemas(signature)
    schemas["PredictResponse"] = {"type": "object", "required": [
        "predictions", "model", "version", "request_id"], "properties": {
        "predictions": {"type": "array", "items": {}},
        "probabilities": {"type": "array", "items": {"type": "array",
                                                      "items": {"type": "number"}}},
        "model": {"type": "string"}, "version": {"type": "string"},
        "request_id": {"type": "string"}}}
    schemas["Error"] = {
        "type": "object", "required": ["error", "code", "hint", "request_id"],
        "properties": {"error": {"type": "string"}, "code": {"type": "string"},
                       "hint": {"type": "string", "nullable": True},
                       "request_id": {"type": "string"}}}
    error = {"description": "error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    json_body = {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}}
    ok = {"description": "predictions", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/PredictResponse"}}}}
    predict = {"post": {"summary": f"Predict with {model}", "requestBody": {
        "required": True, "content": json_body}, "parameters": [{
            "name": "probabilities", "in": "query", "schema": {"type": "boolean"}}],
        "responses": {"200": ok, **{code: error for code in ("400", "413", "422", "500", "503")}}}}
    simple = {"responses": {"200": {"description": "ok"}, "503": error}}
    v2 = {"post": {"summary": "Open Inference Protocol (KServe V2) inference",
                   "requestBody": {"required": True, "content": {"application/json": {
                       "schema": {"type": "object", "required": ["inputs"]}}}},
                   "responses": {"200": {"description": "outputs"}, **{
                       code: error for code in ("400", "404", "413", "422", "500", "503")}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Gannet inference server: {model}", "version": __version__},
        "paths": {
            "/predict": predict,
            "/v2/health/live": {"get": simple}, "/v2/health/ready": {"get": simple},
            "/v2": {"get": simple}, "/v2/models/{name}": {"get": simple},
            "/v2/models/{name}/ready": {"get": simple}, "/v2/models/{name}/infer": v2,
            "/v2/models/{name}/versions/{version}/infer": v2,
            "/metrics": {"get": {"responses": {"200": {"description": "Prometheus text"}}}},
            "/feedback": {"post": {"responses": {"200": {"description": "recorded"},
                                                 "501": error}}},
        },
        "components": {"schemas": schemas},
    }
