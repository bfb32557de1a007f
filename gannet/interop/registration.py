"""A model an MLflow client logged to Gannet, registered as a real Gannet model version.

An MLflow client registers what it logged here: the files of a logged model (MLflow 3's
``log_model``) or of a run's artifact folder (MLflow 2's, or ``log_artifacts`` of a saved
model). Those are an MLflow model folder (``MLmodel``, the model file, its environment),
which ``import_mlflow_model`` turns into a Gannet package; the registry then stores it,
signs it and links it to the run, like any version. A folder that already is a Gannet
package (a model logged by Gannet's own SDK) is registered as it is.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from gannet.core.errors import InvalidArgument, NotFound
from gannet.models.manifest import MANIFEST
from gannet.models.mlflow_import import import_mlflow_model
from gannet.registry.service import RegistryService
from gannet.registry.types import ModelVersion
from gannet.tracking.service import TrackingService

__all__ = ["register_mlflow_model"]


def register_mlflow_model(
    tracking: TrackingService,
    registry: RegistryService,
    name: str,
    *,
    run_id: str | None = None,
    model_id: str | None = None,
    path: str = "",
    source_uri: str | None = None,
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """A new version of ``name`` from the logged model ``model_id``, or from the folder
    ``path`` of the run ``run_id``'s artifacts; ``source_uri`` is the source the version
    records (what the MLflow client named)."""
    if (run_id is None) == (model_id is None):
        raise InvalidArgument("register a logged model or a run's artifact folder: give "
                              "model_id or run_id (not both)",
                              "e.g. source 'models:/m-...' or 'runs:/<run id>/model'")
    with tempfile.TemporaryDirectory(prefix="gannet-mlflow-") as tmp:
        folder = Path(tmp) / "model"
        if model_id is not None:
            logged = tracking.get_logged_model(model_id)
            run_id = logged.source_run_id if logged.source_run_id and _exists(
                tracking, logged.source_run_id) else None
            tracking.download_logged_model(model_id, folder)
        else:
            assert run_id is not None
            files = {p for p, _, _ in tracking.artifact_files(run_id, path)}
            if f"{path}/{MANIFEST}".lstrip("/") in files:  # a Gannet package: as it is
                return registry.register_model(
                    f"runs:/{run_id}/{path}", name, description=description, tags=tags,
                    source_uri=source_uri)
            if not files:
                raise NotFound(f"run {run_id} has no artifacts under {path!r}",
                               "log the model in the run before registering it")
            folder = tracking.download_artifacts(run_id, path or None, Path(tmp) / "run")
        if (folder / MANIFEST).is_file():
            package = folder
        else:
            package = Path(tmp) / "package"
            import_mlflow_model(folder, package, run_id=run_id)
        return registry.register_model(package, name, description=description, tags=tags,
                                       source_uri=source_uri)


def _exists(tracking: TrackingService, run_id: str) -> bool:
    try:
        tracking.get_run(run_id)
    except NotFound:
        return False
    return True
