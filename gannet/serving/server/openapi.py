"""The inference server's OpenAPI 3 document, its request bodies typed by the signature.

``predict_schemas`` gives the JSON schemas of a ``/predict`` body (records, columns, rows)
for a signature; ``openapi_document`` puts them in the document ``GET /openapi.json``
answers, with every route the server has: ``/predict``, MLflow's ``/invocations``,
``/ping`` and ``/health``, the Open Inference Protocol's (each ``{name}`` and
``{version}`` declared as a path parameter, so code generators and validators take it),
``/metrics``, ``/feedback`` and ``/docs``, and the one error envelope. It is valid
OpenAPI 3.0 (a test runs openapi-spec-validator on what the server answers).
"""

from __future__ import annotations

from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.models.signature import TEXT, Signature, numpy_dtype
from gannet.serving.server.protocol import DATATYPES

__all__ = ["openapi_document", "predict_schemas"]

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


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
    records = {"type": "array", "items": _ref("Record"), "minItems": 1}
    return {
        "Record": record,
        "Columns": columns,
        "PredictRequest": {"oneOf": [records, {
            "type": "object", "properties": {
                "records": records,
                "columns": _ref("Columns"),
                "probabilities": {"type": "boolean"}}}]},
    }


def _invocations_schema(signature: Signature | None) -> dict[str, Any]:
    """MLflow's scoring body: an object with exactly one of its four keys."""
    tabular = signature is not None and signature.inputs.kind == "dataframe"
    records = {"type": "array", "items": _ref("Record") if tabular else {"type": "object"},
               "minItems": 1}
    split = {"type": "object", "required": ["data"], "properties": {
        "columns": {"type": "array", "items": {"type": "string"}},
        "data": {"type": "array", "items": {"type": "array", "items": {}}},
        "index": {"type": "array", "items": {}}}}
    columns = _ref("Columns") if tabular else {"type": "object"}
    shapes = {
        "dataframe_split": split, "dataframe_records": records,
        "instances": {"type": "array", "items": {}, "minItems": 1},
        "inputs": {"oneOf": [columns, {"type": "array", "items": {}, "minItems": 1}]},
    }
    params = {"type": "object", "description": "accepted and not used (MLflow's params)"}
    return {"oneOf": [{"type": "object", "required": [key],
                       "properties": {key: shape, "params": params}}
                      for key, shape in shapes.items()]}


def _v2_schemas() -> dict[str, Any]:
    parameters = {"type": "object", "additionalProperties": {}}
    datatype = {"type": "string", "enum": list(DATATYPES)}
    shape = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    tensor = {"type": "object", "required": ["name", "shape", "datatype", "data"],
              "properties": {"name": {"type": "string"}, "shape": shape,
                             "datatype": datatype, "parameters": parameters,
                             "data": {"type": "array", "items": {}}}}
    return {
        "InferenceRequest": {"type": "object", "required": ["inputs"], "properties": {
            "id": {"type": "string"}, "parameters": parameters,
            "inputs": {"type": "array", "items": _ref("Tensor"), "minItems": 1},
            "outputs": {"type": "array", "items": {
                "type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"}, "parameters": parameters}}}}},
        "InferenceResponse": {"type": "object", "required": ["model_name", "outputs"],
                              "properties": {
            "model_name": {"type": "string"}, "model_version": {"type": "string"},
            "id": {"type": "string"}, "parameters": parameters,
            "outputs": {"type": "array", "items": _ref("Tensor")}}},
        "Tensor": tensor,
        "TensorMetadata": {"type": "object", "required": ["name", "datatype", "shape"],
                           "properties": {"name": {"type": "string"}, "datatype": datatype,
                                          "shape": {"type": "array",
                                                    "items": {"type": "integer"}}}},
        "ModelMetadata": {"type": "object", "required": ["name", "platform", "inputs",
                                                         "outputs"], "properties": {
            "name": {"type": "string"}, "platform": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "inputs": {"type": "array", "items": _ref("TensorMetadata")},
            "outputs": {"type": "array", "items": _ref("TensorMetadata")}}},
        "ServerMetadata": {"type": "object", "required": ["name", "version", "extensions"],
                           "properties": {"name": {"type": "string"},
                                          "version": {"type": "string"},
                                          "extensions": {"type": "array",
                                                         "items": {"type": "string"}}}},
    }


def _answer_schemas() -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "PredictResponse": {"type": "object", "required": [
            "predictions", "model", "version", "request_id"], "properties": {
            "predictions": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]},
            "probabilities": {"type": "array", "items": {"type": "array",
                                                         "items": {"type": "number"}}},
            "model": string, "version": string, "request_id": string}},
        "InvocationsResponse": {"type": "object", "required": ["predictions"], "properties": {
            "predictions": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]}}},
        "Error": {"type": "object", "required": ["error", "code", "hint", "request_id"],
                  "properties": {"error": string, "code": string,
                                 "hint": {"type": "string", "nullable": True},
                                 "request_id": string}},
        "MlflowError": {"type": "object", "required": ["error_code", "message"],
                        "properties": {"error_code": string, "message": string,
                                       "hint": {"type": "string", "nullable": True},
                                       "request_id": string}},
        "Feedback": {"type": "object", "required": ["request_id", "label"], "properties": {
            "request_id": {"type": "string", "maxLength": 200},
            "label": {"oneOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string"},
                                {"type": "array", "items": {}}]},
            "row": {"type": "integer", "minimum": 0}}},
    }


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema)}}}


def _body(schema: str, *, csv: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ref(schema)}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"required": True, "content": content}


def _errors(*codes: str, schema: str = "Error") -> dict[str, Any]:
    return {code: _json(schema, "error") for code in codes}


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "the deployment's name or its model's name"}
_VERSION = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "a version number, or an alias the deployment routes to"}


def _model_paths() -> dict[str, Any]:
    """The Open Inference Protocol's model routes, with and without a version."""
    paths: dict[str, Any] = {}
    for prefix, parameters in (("/v2/models/{name}", [_NAME]),
                               ("/v2/models/{name}/versions/{version}", [_NAME, _VERSION])):
        paths[prefix] = {"parameters": parameters, "get": {
            "summary": "Model metadata from the signature",
            "responses": {"200": _json("ModelMetadata", "model metadata"),
                          **_errors("404", "503")}}}
        paths[f"{prefix}/ready"] = {"parameters": parameters, "get": {
            "summary": "Whether the model is ready",
            "responses": {"200": {"description": "ready"}, **_errors("404", "503")}}}
        paths[f"{prefix}/infer"] = {"parameters": parameters, "post": {
            "summary": "Open Inference Protocol (KServe V2) inference",
            "requestBody": _body("InferenceRequest"),
            "responses": {"200": _json("InferenceResponse", "outputs"),
                          **_errors("400", "404", "413", "415", "422", "500", "503")}}}
        paths[f"{prefix}/explain"] = {"parameters": parameters, "post": _EXPLAIN}
    return paths


_EXPLAIN = {
    "summary": "Per-feature contributions (SHAP values) for the rows sent",
    "description": "Any /predict body, or V2 inputs; at most serving_explain_max_rows rows "
                   "(413 beyond) within serving_explain_timeout seconds (503 beyond); 501 "
                   "for a model SHAP cannot explain.",
    "requestBody": _body("PredictRequest", csv=True),
    "responses": {"200": {"description": "base_value, features, contributions per row"},
                  **_errors("400", "404", "413", "415", "422", "500", "501", "503")}}


def _paths(model: str) -> dict[str, Any]:
    health = {"get": {"responses": {"200": {"description": "ready"}, **_errors("503")}}}
    predict = {"post": {
        "summary": f"Predict with {model}",
        "parameters": [{"name": "probabilities", "in": "query", "required": False,
                        "schema": {"type": "boolean"}}],
        "requestBody": _body("PredictRequest", csv=True),
        "responses": {"200": _json("PredictResponse", "predictions"),
                      **_errors("400", "413", "415", "422", "500", "503")}}}
    invocations = {"post": {
        "summary": f"Predict with {model}: MLflow's scoring protocol (mlflow models serve)",
        "requestBody": _body("InvocationsRequest", csv=True),
        "responses": {"200": _json("InvocationsResponse", "predictions"),
                      **_errors("400", "413", "415", "500", "503", schema="MlflowError")}}}
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "/predict": predict,
        "/invocations": invocations,
        "/ping": health, "/health": health,
        "/v2/health/live": {"get": {"responses": {"200": {"description": "live"}}}},
        "/v2/health/ready": health,
        "/v2": {"get": {"responses": {"200": _json("ServerMetadata", "server metadata")}}},
        **_model_paths(),
        "/openapi.json": {"get": {"responses": {"200": {"description": "this document"}}}},
        "/docs": {"get": {"summary": "Interactive documentation (Swagger UI)", "responses": {
            "200": {"description": "an HTML page",
                    "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/metrics": {"get": {"responses": {"200": {"description": "Prometheus text",
                                                   "content": text}}}},
        "/explain": {"post": _EXPLAIN},
        "/feedback": {"post": {"requestBody": _body("Feedback"), "responses": {
            "200": {"description": "recorded"}, **_errors("400", "413", "422", "501", "503")}}},
    }


def openapi_document(signature: Signature | None, model: str) -> dict[str, Any]:
    """OpenAPI 3 for the inference server, its request bodies typed by ``signature``."""
    from gannet.core.version import VERSION as __version__

    schemas = predict_schemas(signature)
    schemas["InvocationsRequest"] = _invocations_schema(signature)
    schemas.update(_v2_schemas())
    schemas.update(_answer_schemas())
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Gannet inference server: {model}", "version": __version__},
        "paths": _paths(model),
        "components": {"schemas": schemas},
    }
