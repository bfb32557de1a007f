"""Serving: the data plane — an inference server, deployments, traffic routing, an inference log.

- ``types``: DeploymentState, Route, LoggedPrediction and the two seams the server uses
  (``DeploymentSource``: what to serve now; ``PredictionLog``: where predictions go)
- ``deployments`` / ``tables`` / ``router``: deployments (versions, weights, shadows,
  sticky A/B) stored in the metadata store, with history and rollback
- ``protocol`` / ``codecs``: Open Inference Protocol V2 and ``/predict`` bodies to and from
  what the model's signature takes
- ``batching`` / ``router`` / ``host``: micro-batching, choosing a route per request (canary,
  sticky A/B, shadows), the loaded versions and their hot swap when the deployment changes
- ``app`` / ``metrics`` / ``server``: the raw ASGI app, Prometheus metrics, uvicorn in one
  process or a pre-fork of workers sharing one TCP_NODELAY socket
- ``inference_log`` / ``log_schema``: predictions as Parquet, partitioned by
  deployment/version/date; feedback joined by request id; read with DuckDB
- ``batch``: batch inference over Parquet/CSV files
- ``bundle``: Dockerfile, requirements and Kubernetes manifests for a deployment

``serving`` never imports the control plane (``gannet.server``).
"""
