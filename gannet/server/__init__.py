"""The team server: the control plane's REST API over the services (``gannet server``).

- ``app``: ``create_app(services, auth=...)`` - FastAPI with every router, wrapped by the
  middleware; ``/openapi.json`` and ``/docs``
- ``middleware``: request ids, the body limit, authentication (the route runs acting as
  the caller)
- ``fast_routes``: MLflow's per-value writes (``log-metric``...) routed by a dict lookup
- ``idempotency``: ``Idempotency-Key``: a retried POST acts once and gets the first answer
- ``errors``: every failure as the one JSON envelope of ``gannet.core.errors`` (in MLflow's
  shape on the MLflow API's paths)
- ``deps``: what routes are given (services, the caller) and ``answer`` (the one encoding)
- ``shapes``: each JSON answer's shape, from the services' own types, for the OpenAPI
  document (routes still answer through ``answer``)
- ``metrics``: Prometheus counts and latency by route template
- ``request_stream``: a request's body as a blocking stream, for uploads to the blob store
- ``routes``: one router per capability under ``/api/v1``
- ``mlflow``: MLflow's REST API (``/api/2.0/mlflow/``, the artifact proxy), so unchanged
  MLflow clients work against the server
- ``runner``: ``run_server`` - one process or pre-forked workers on a TCP_NODELAY socket
"""
