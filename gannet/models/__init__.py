"""Models: the model package format, its flavors, signatures and references.

A map of the folder:

- ``manifest.py``: ``gannet-model.yaml`` (``ModelMeta``: flavor, loader, signature, versions,
  requirements, file digests) and the format's constants; imports no flavor.
- ``package.py``: the package, a folder of a flavor's files plus the manifest.
  ``save_model`` writes one atomically, ``verify_files`` checks every byte against the
  manifest, ``load_package`` gives a ``LoadedModel`` whose ``predict`` checks its input.
- ``signature.py``: ``Signature`` (input and output ``Schema`` of ``ColumnSpec``),
  ``infer_signature`` from examples, and ``check_input``, cheap on the serving hot path.
- ``reference.py``: model references (``churn/3``, ``churn@champion``, ``models:/...``),
  parsed by ``parse_ref`` and recognised by ``is_reference``.
- ``flavors/``: the flavor registry (``register``, ``detect``, ``get``, ``names``; entry point
  group ``gannet.flavors``) and the built-in flavors: sklearn (skops, pickle fallback),
  xgboost, lightgbm, onnx, pytorch (when torch is installed) and python (your own class).
- ``mlflow_import.py``: ``import_mlflow_model`` turns an MLflow model folder into a package.
- ``load_model(ref_or_path)`` here: a package folder, or a reference that an installed
  resolver (entry point group ``gannet.model_resolvers``; Gannet's registry, reached
  through the composition root, is one) understands. This layer cannot import the
  registry, so it asks by entry point.

Importing this package loads no ML library; each flavor imports its own on first use.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

from gannet.core.errors import NotFound
from gannet.models import flavors
from gannet.models.manifest import MANIFEST, ModelMeta
from gannet.models.mlflow_import import import_mlflow_model
from gannet.models.package import (
    LoadedModel,
    NoPredictProba,
    load_package,
    read_meta,
    save_model,
    verify_files,
)
from gannet.models.reference import ModelRef, is_reference, parse_ref
from gannet.models.signature import ColumnSpec, Schema, Signature, infer_signature

__all__ = [
    "MANIFEST",
    "RESOLVER_GROUP",
    "ColumnSpec",
    "LoadedModel",
    "ModelMeta",
    "ModelRef",
    "NoPredictProba",
    "Schema",
    "Signature",
    "flavors",
    "import_mlflow_model",
    "infer_signature",
    "is_reference",
    "load_model",
    "load_package",
    "parse_ref",
    "read_meta",
    "save_model",
    "verify_files",
]

RESOLVER_GROUP = "gannet.model_resolvers"


def load_model(ref: str | os.PathLike[str], **options: Any) -> LoadedModel:
    """The model at ``ref``: a registered model (``churn@champion``, ``churn/3``,
    ``models:/churn@champion``) or a package folder.

    A string written as a reference always means the registry (a folder of that name in
    the working directory does not shadow it); pass a ``Path`` or ``./churn/3`` for such a
    folder. References go to the installed resolvers in name order (``options`` go to them,
    e.g. the registry's ``allow_unsigned``); folders to ``load_package`` (``options`` go to
    it, e.g. ``allow_pickle``).
    """
    if not is_reference(ref):
        return load_package(ref, **options)
    resolvers = sorted(metadata.entry_points(group=RESOLVER_GROUP), key=lambda e: e.name)
    failure: NotFound | None = None
    for entry in resolvers:
        try:
            loaded: LoadedModel = entry.load()(str(ref), **options)
            return loaded
        except NotFound as exc:  # not this resolver's reference: ask the next one
            failure = exc
    if failure is not None:
        raise failure
    raise NotFound(
        f"{ref!r} is a model reference, and no model resolver is installed to look it up",
        hint=f"install a package that declares a {RESOLVER_GROUP!r} entry point (Gannet's "
        f"own does, once pip-installed), or pass the folder of a saved package as a Path",
    )
