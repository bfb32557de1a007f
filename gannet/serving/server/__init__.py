"""The inference server: the data plane, on raw ASGI and uvicorn.

- ``app``: ``InferenceApp`` / ``create_app`` - the ASGI app: routing, lifespan, health,
  metadata, metrics and feedback endpoints
- ``inference``: ``/predict`` and V2 infer; the ``Exchange`` of one answered request, then
  the inference log and the shadow copies
- ``request``: ``Call`` (one HTTP request) and reading its body (limit, gzip, JSON)
- ``bodies``: a prediction request's body, JSON or CSV, decoded per version's signature
- ``scoring``: MLflow's scoring protocol - ``/invocations``, its errors, ``/ping``
- ``docs``: ``/docs`` - Swagger UI from the installed ``swagger-ui-bundle``, no CDN
- ``cors``: CORS preflights and headers (``--cors-origins``), the access log's lines
- ``explain``: ``POST /explain`` and V2 ``.../explain``: per-feature contributions, bounded
  in rows and time, in their own threads (never on the predict path)
- ``feedback``: a ``POST /feedback`` body checked and bounded (request id, label, row)
- ``envelope``: the one JSON shape of every error answer
- ``protocol``: Open Inference Protocol (KServe V2) tensors as JSON
- ``openapi``: the OpenAPI 3 document (valid), request bodies typed by the signature
- ``codecs``: a request's JSON to a model's input, per signature; batches merged
- ``enriched``: ``FeatureCodec`` - requests carrying entity keys, a deployment's features
  looked up once per micro-batch and logged with the request
- ``served``: ``Served`` (a loaded, warmed-up version) and the batch function through it
- ``host``: ``ModelHost`` - the loaded versions, the routing table, hot swap on change
- ``batching``: ``MicroBatcher`` - concurrent requests, one vectorised predict
- ``router``: canary weights, sticky A/B, shadow copies
- ``metrics``: Prometheus metrics, shared across pre-forked workers; ``process_*`` of
  the whole server
- ``tcp``: the listening socket and connections with TCP_NODELAY
- ``prefork``: ``Supervisor`` - N worker processes on one socket, kept alive; they stop
  when it dies
- ``runner``: ``serve`` - what ``gannet serve`` runs: uvicorn, one process or a pre-fork

The names below load on first use (uvicorn loads only when a server runs).
"""

from __future__ import annotations

from gannet.core.lazy import lazy_exports

_WHERE = {
    "DEFAULT_MAX_BODY": "app",
    "InferenceApp": "app",
    "ModelHost": "host",
    "MicroBatcher": "batching",
    "ServeOptions": "runner",
    "build_app": "runner",
    "create_app": "app",
    "error_envelope": "envelope",
    "resolve_target": "runner",
    "serve": "runner",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
