"""Serving: deployments, the inference server and the inference log.

A map of the folder (each sub-package has the same shape: ``types``, then what it needs):

- ``deployments/``: the control plane - what a server serves. Versions and traffic
  weights, shadows, sticky A/B, log field masking, as append-only revisions with
  rollback and audit (``DeploymentService``); the deployable bundle (Dockerfile,
  Kubernetes manifests).
- ``server/``: the data plane - the inference server. A raw ASGI app (Open Inference
  Protocol V2, ``/predict``, Prometheus metrics, one error envelope), the loaded versions
  and their hot swap, micro-batching, routing (canary, sticky A/B, shadows), and the
  process runner (uvicorn, pre-fork workers on one TCP_NODELAY socket).
- ``log/``: the inference log - predictions as Parquet partitioned by
  deployment/version/date, written off the request path; feedback by request id;
  queries with DuckDB.
- ``batch``: batch inference over Parquet/CSV files, chunk by chunk, optionally logged.

Layers inside (an import-linter contract): ``server`` and ``batch`` may import
``deployments`` and ``log``, which import neither each other nor anything above. Nothing
in serving imports the control plane's REST server (``gannet.server``) or the CLI.
Importing this package loads no heavy library (pyarrow, duckdb, uvicorn, sklearn).
"""

__all__ = ["batch", "deployments", "log", "server"]
