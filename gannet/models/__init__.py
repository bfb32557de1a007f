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
  parsed by ``parse_ref`` and recognised by ``is_reference``; ``locate`` tells a reference
  from a folder (``file:churn``, ``./churn``, a ``Path``) and refuses an ambiguous one.
- ``flavors/``: the flavor registry (``register``, ``detect``, ``get``, ``names``; entry point
  group ``gannet.flavors``) and the built-in flavors: sklearn (skops, pickle fallback),
  xgboost, lightgbm, onnx, pytorch (when torch is installed) and python (your own class).
- ``mlflow_import.py``: ``import_mlflow_model`` turns an MLflow model folder into a package.
- ``mlmodel.py``: the ``MLmodel`` (with ``requirements.txt``, ``python_env.yaml``) every
  package carries, so MLflow's tools can load and serve it.
- ``explainers.py``: why a model decides: permutation importance, SHAP values (trees
  exactly, linear models, others by sampling) summarised per feature and per row.
- ``mlflow_pyfunc.py``: MLflow's ``python_function`` both ways: ``_load_pyfunc`` (MLflow
  loads a Gannet package) and ``MlflowPythonModel`` (an imported MLflow pyfunc model).
- ``load_model(ref_or_path, trust=False)`` here: a package folder, or a reference that an
  installed resolver (entry point group ``gannet.model_resolvers``; Gannet's registry,
  reached through the composition root, is one) understands. This layer cannot import the
  registry, so it asks by entry point. Code from a package (a Python class, a pickle) runs
  only when its signature verifies or with ``trust=True``.

Importing this package loads no ML library; each flavor imports its own on first use.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
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
from gannet.models.reference import FILE_PREFIX, ModelRef, is_reference, locate, parse_ref
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
    "locate",
    "parse_ref",
    "read_meta",
    "save_model",
    "verify_files",
]

RESOLVER_GROUP = "gannet.model_resolvers"


def load_model(
    ref: str | os.PathLike[str], *, trust: bool = False, **options: Any
) -> LoadedModel:
    """The model at ``ref``: a registered model (``churn@champion``, ``churn/3``,
    ``models:/churn@champion``) or a package folder (a ``Path``, ``./churn``,
    ``file:churn``).

    A string written as a reference always means the registry, and one that is also a
    folder in the working directory is refused as ambiguous (``locate``). References go to
    the installed resolvers in name order (``options`` go to them, e.g. the registry's
    ``allow_unsigned``); folders to ``load_package``.

    ``trust=True`` runs code from the package: it lets a package whose loading imports a
    class it names or unpickles (the ``python`` flavor, a pickled scikit-learn model) load
    without a verified signature. A folder has no signature, so such a folder needs it; a
    registered version needs it only when its signature cannot be verified.
    """
    target = locate(ref)
    if isinstance(target, Path):
        return load_package(target, trust=trust, **options)
    if trust:
        options = {**options, "trust": True}
    resolvers = sorted(metadata.entry_points(group=RESOLVER_GROUP), key=lambda e: e.name)
    failure: NotFound | None = None
    for entry in resolvers:
        try:
            loaded: LoadedModel = entry.load()(target, **options)
            return loaded
        except NotFound as exc:  # not this resolver's reference: ask the next one
            failure = exc
    if failure is not None:
        raise failure
    raise NotFound(
        f"{ref!r} is a model reference, and no model resolver is installed to look it up",
        hint=f"install a package that declares a {RESOLVER_GROUP!r} entry point (Gannet's "
        f"own does, once pip-installed), or name the folder of a saved package "
        f"({FILE_PREFIX}{ref} or a Path)",
    )
