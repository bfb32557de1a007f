"""Models: the model package format, its flavors and signatures.

A map of the folder:

- ``package.py``: the package - a folder of a flavor's files plus ``gannet-model.yaml``
  (``ModelMeta``: flavor, loader, signature, versions, requirements, file digests).
  ``save_model`` writes one atomically, ``verify_files`` checks every byte against the
  manifest, ``load_model`` gives a ``LoadedModel`` whose ``predict`` checks its input.
- ``signature.py``: ``Signature`` (input and output ``Schema`` of ``ColumnSpec``),
  ``infer_signature`` from examples, and ``check_input``, cheap on the serving hot path.
- ``flavors/``: the flavor registry (``register``, ``detect``, ``get``, ``names``; entry point
  group ``gannet.flavors``) and the built-in flavors: sklearn (skops, pickle fallback),
  xgboost, lightgbm, onnx, pytorch (when torch is installed) and python (your own class).
- ``mlflow_import.py``: ``import_mlflow_model`` turns an MLflow sklearn model folder into a
  package.
- ``load(ref)`` here: a package folder, or a reference that an installed resolver (entry
  point group ``gannet.model_resolvers``; Gannet's registry is one) understands, such as
  ``churn@champion``. This layer cannot import the registry, so it asks by entry point.

Importing this package loads no ML library; each flavor imports its own on first use.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Any

from gannet.core.errors import NotFound
from gannet.models import flavors
from gannet.models.mlflow_import import import_mlflow_model
from gannet.models.package import (
    MANIFEST,
    LoadedModel,
    ModelMeta,
    NoPredictProba,
    load_model,
    read_meta,
    save_model,
    verify_files,
)
from gannet.models.signature import ColumnSpec, Schema, Signature, infer_signature

__all__ = [
    "MANIFEST",
    "RESOLVER_GROUP",
    "ColumnSpec",
    "LoadedModel",
    "ModelMeta",
    "NoPredictProba",
    "Schema",
    "Signature",
    "flavors",
    "import_mlflow_model",
    "infer_signature",
    "load",
    "load_model",
    "read_meta",
    "save_model",
    "verify_files",
]

RESOLVER_GROUP = "gannet.model_resolvers"


def load(ref: str | os.PathLike, **options: Any) -> LoadedModel:
    """The model at ``ref``: a package folder (``options`` go to ``load_model``), else the
    first installed resolver that knows the reference (``options`` go to it, e.g. the
    registry's ``allow_unsigned``)."""
    if (Path(ref) / MANIFEST).is_file():
        return load_model(ref, **options)
    resolvers = sorted(metadata.entry_points(group=RESOLVER_GROUP), key=lambda e: e.name)
    failure: NotFound | None = None
    for entry in resolvers:
        try:
            return entry.load()(str(ref), **options)
        except NotFound as exc:  # not this resolver's reference: ask the next one
            failure = exc
    if failure is not None:
        raise failure
    raise NotFound(
        f"{ref!r} is not a model package folder (no {MANIFEST} in it), and no model resolver "
        "is installed to look it up",
        hint=f"pass the folder of a saved package, or install a package that declares a "
        f"{RESOLVER_GROUP!r} entry point (Gannet's own does, once pip-installed)",
    )
