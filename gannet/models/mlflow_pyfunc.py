"""MLflow's ``python_function`` interface, both ways.

Out: every Gannet package's ``MLmodel`` names this module as its pyfunc loader, so
``mlflow.pyfunc.load_model(package_folder)`` calls ``_load_pyfunc`` and gets a model whose
``predict`` is the Gannet package's: its files are verified against the manifest and the
input is checked against its signature. A package that runs code of its own when it loads
(a plain pickle, a Python class) is a folder without a signature, so it loads only when
the caller says they trust it; with MLflow that is setting ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``
to ``true`` explicitly (MLflow's own switch for "I trust what this model deserialises").

In: an MLflow ``python_function`` model (a ``PythonModel``, cloudpickled or defined by a
script) imported by ``import_mlflow_model`` becomes a package of Gannet's ``python``
flavor whose class is ``MlflowPythonModel``; its load is mlflow's, so it needs mlflow
installed, and (the python flavor's rule) it runs only when the package's signature
verifies or with ``trust=True``.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument, PermissionDenied

if TYPE_CHECKING:
    from gannet.models.package import LoadedModel

__all__ = ["TRUST_VARIABLE", "GannetPyfuncModel", "MlflowPythonModel"]

TRUST_VARIABLE = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
# what MLflow writes into a package it downloads from a registry (models:/name/3), which
# the package's manifest cannot list
MLFLOW_ADDED = ("registered_model_meta",)


class GannetPyfuncModel:
    """What ``mlflow.pyfunc.load_model`` wraps for a Gannet package."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.model.predict(data)

    def get_raw_model(self) -> Any:
        """The model object itself (MLflow's ``PyFuncModel.get_raw_model`` asks for it)."""
        return self.model.raw


def _load_pyfunc(path: str, model_config: Any = None) -> GannetPyfuncModel:
    """MLflow's pyfunc loader entry point (``loader_module`` in the package's MLmodel)."""
    from gannet.models.package import load_package, read_meta, verify_files

    folder = Path(path)
    folder = folder.parent if folder.is_file() else folder
    verify_files(folder, read_meta(folder), unlisted_allowed=MLFLOW_ADDED)
    try:
        return GannetPyfuncModel(
            load_package(folder, trust=_trusted_by_environment(), verify=False))
    except PermissionDenied as exc:
        raise PermissionDenied(
            f"{exc.message}; MLflow is loading it",
            hint=f"set {TRUST_VARIABLE}=true only if you trust where the package came from "
            "(it runs code from the package), or load it from Gannet's registry, where its "
            "signature is verified",
        ) from exc


def _trusted_by_environment() -> bool:
    """Only an explicit ``true``: MLflow's default (unset) does not vouch for a folder."""
    return os.environ.get(TRUST_VARIABLE, "").strip().lower() in ("true", "1")


class MlflowPythonModel:
    """An imported MLflow ``python_function`` model: the MLflow folder, loaded by mlflow."""

    def __init__(self, pyfunc: Any, folder: Path) -> None:
        self.pyfunc = pyfunc
        self.folder = folder

    @classmethod
    def load(cls, path: Path) -> MlflowPythonModel:
        try:
            import mlflow.pyfunc
        except ImportError as exc:
            raise InvalidArgument(
                "this model was imported from MLflow's python_function flavor, and loading "
                "it needs mlflow, which is not installed",
                hint="pip install mlflow (the version in the package's requirements)",
            ) from exc
        with warnings.catch_warnings():  # mlflow's advice to the model's author, not to us
            warnings.simplefilter("ignore", UserWarning)
            pyfunc = mlflow.pyfunc.load_model(str(path), suppress_warnings=True)
        return cls(pyfunc, Path(path))

    def predict(self, data: Any) -> Any:
        return self.pyfunc.predict(data)

    def save(self, path: Path) -> None:
        """Copy the MLflow folder (saving the model again writes the same package)."""
        shutil.copytree(self.folder, path, dirs_exist_ok=True)
