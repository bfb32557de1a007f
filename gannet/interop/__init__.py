"""Interoperability: bringing another tool's history into Gannet.

A map of the folder:

- ``mlflow_source.py``: reads an MLflow tracking store (``sqlite:///...``, a ``file:``
  folder, an ``http://`` server) with the mlflow client, as plain values; the only module
  here that imports mlflow (on first use; it is not a dependency of Gannet).
- ``service.py``: ``MlflowImportService.import_mlflow``, the use case behind
  ``gannet import mlflow`` and ``GannetClient.import_mlflow``: experiments, runs (params,
  full metric histories, tags, artifacts), registered models, versions and aliases, written
  through the tracking and registry services, idempotently.
- ``registration.py``: ``register_mlflow_model``, what an MLflow client logged to a Gannet
  server (a logged model, a run's model folder) made a real Gannet model version; the
  service's ``register_mlflow_model`` is the use case behind the MLflow API's
  ``model-versions/create``.
- ``types.py``: ``ImportReport``, what an import copied, found already there, or skipped.

This layer sits above the registry (it writes through it and through tracking); nothing
but the composition root and the faces imports it.
"""

from gannet.interop.types import ImportReport

__all__ = ["ImportReport"]
