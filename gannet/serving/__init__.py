"""Serving: the data plane — an inference server, deployments, traffic routing, an inference log.

- ``types``: DeploymentState, Route, LoggedPrediction and the two seams the server uses
  (``DeploymentSource``: what to serve now; ``PredictionLog``: where predictions go)
- ``deployments`` / ``tables`` / ``router``: deployments (versions, weights, shadows,
  sticky A/B) stored in the metadata store, with history and rollback
- ``protocol`` / ``batching`` / ``host`` / ``app`` / ``server``: the ASGI inference server
  (Open Inference Protocol V2, ``/predict``, ``/metrics``), micro-batching, uvicorn workers
- ``inference_log``: predictions as Parquet, partitioned by deployment/version/date;
  feedback joined by request id; read with DuckDB
- ``batch``: batch inference over Parquet/CSV files
- ``bundle``: Dockerfile, requirements and Kubernetes manifests for a deployment

``serving`` never imports the control plane (``gannet.server``).
"""
