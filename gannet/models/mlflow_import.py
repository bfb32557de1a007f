"""Convert an MLflow model folder (``MLmodel`` + pickle) into a Gannet model package.

MLflow saves scikit-learn models as (cloud)pickles, so the package stays a pickle
(serialization "pickle"): it loads only with ``trust=True`` or once the registry has
signed it. What MLflow knew is kept: the signature (MLflow's JSON column and tensor specs,
converted to ours), the run id, the pip requirements and the scikit-learn version, and the
original ``MLmodel`` and environment files under ``mlflow/`` for the record. mlflow itself
is not needed: the folder is read as the YAML and files it is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gannet.core.errors import InvalidArgument, NotFound
from gannet.models import flavors
from gannet.models.manifest import ModelMeta
from gannet.models.package import seal, staging
from gannet.models.signature import ColumnSpec, Schema, Signature

__all__ = ["MLFLOW_TYPES", "import_mlflow_model"]

MLFLOW_TYPES = {
    "double": "float64", "float": "float32", "long": "int64", "integer": "int32",
    "boolean": "bool", "string": "string", "binary": "object", "datetime": "datetime64[ns]",
}
PICKLE_FORMATS = ("cloudpickle", "pickle")
RECORD_FILES = ("MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt")
PICKLE_FILE = "model.pkl"


def import_mlflow_model(mlflow_dir: str | os.PathLike, dest: str | os.PathLike) -> ModelMeta:
    """Write the scikit-learn model of the MLflow folder ``mlflow_dir`` as a package at ``dest``."""
    source = Path(mlflow_dir)
    if not (source / "MLmodel").is_file():
        raise NotFound(f"{source} is not an MLflow model folder: it has no MLmodel file")
    doc = yaml.safe_load((source / "MLmodel").read_text(encoding="utf-8")) or {}
    model_file, pickle_module, sklearn_version = _sklearn_model(source, doc)
    sklearn = flavors.get("sklearn")
    pyfunc = (doc.get("flavors") or {}).get("python_function") or {}
    requirements = _requirements(source)
    cloudpickle = any(r.startswith("cloudpickle") for r in requirements)
    if pickle_module == "cloudpickle" and not cloudpickle:
        requirements.append("cloudpickle")
    meta = ModelMeta(
        flavor=sklearn.name,
        loader=sklearn.loader,
        signature=convert_signature(doc.get("signature")),
        python_version=str(pyfunc.get("python_version") or _python_version(source)),
        libraries={"scikit-learn": str(sklearn_version)} if sklearn_version else {},
        requirements=tuple(requirements),
        files={},
        run_id=doc.get("run_id"),
        serialization="pickle",
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        extra={
            "imported_from": "mlflow",
            "mlflow_version": doc.get("mlflow_version"),
            "model_uuid": doc.get("model_uuid"),
            "pickle_module": pickle_module,
        },
    )
    dest = Path(dest)
    with staging(dest) as folder:
        shutil.copyfile(model_file, folder / PICKLE_FILE)
        (folder / "mlflow").mkdir()
        for name in RECORD_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, folder / "mlflow" / name)
        return seal(folder, dest, meta)


def _sklearn_model(source: Path, doc: dict) -> tuple[Path, str, str | None]:
    """The pickle file, its pickle module and the sklearn version the MLmodel names."""
    found = doc.get("flavors") or {}
    sklearn, pyfunc = found.get("sklearn"), found.get("python_function") or {}
    if sklearn:
        name = sklearn.get("pickled_model") or PICKLE_FILE
        module = sklearn.get("serialization_format") or "cloudpickle"
        version = sklearn.get("sklearn_version")
    elif pyfunc.get("loader_module") == "mlflow.sklearn":
        name, module, version = pyfunc.get("model_path") or PICKLE_FILE, "cloudpickle", None
    else:
        raise InvalidArgument(
            f"{source} holds MLflow flavors {', '.join(found) or 'none'}: only scikit-learn "
            "models (flavor 'sklearn') can be imported",
            hint="load it with mlflow and save the underlying model with gannet.models.save_model",
        )
    if module not in PICKLE_FORMATS:
        raise InvalidArgument(f"{source}: serialization_format {module!r} is not one of "
                              f"{', '.join(PICKLE_FORMATS)}")
    return _inside(source, str(name)), str(module), version


def _inside(source: Path, name: str) -> Path:
    """``source / name`` if that is a file inside ``source`` (MLmodel paths are untrusted)."""
    relative = PurePosixPath(name)
    path = (source / name).resolve()
    if relative.is_absolute() or ".." in relative.parts or not path.is_relative_to(
        source.resolve()
    ):
        raise InvalidArgument(f"MLmodel names a model file outside the folder: {name!r}")
    if not path.is_file():
        raise NotFound(f"MLmodel names the model file {name!r}, which is not in {source}")
    return path


def _requirements(source: Path) -> list[str]:
    path = source / "requirements.txt"
    if not path.is_file():
        return []
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _python_version(source: Path) -> str:
    path = source / "python_env.yaml"
    if path.is_file():
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return str(doc.get("python") or "")
    return ""


def convert_signature(signature: Any) -> Signature | None:
    """An MLmodel ``signature`` (JSON strings of column or tensor specs) as ours."""
    if not signature or not signature.get("inputs"):
        return None
    outputs = signature.get("outputs")
    return Signature(_schema(signature["inputs"]), _schema(outputs) if outputs else None)


def _schema(text: str | list) -> Schema:
    specs = json.loads(text) if isinstance(text, str) else text
    if not isinstance(specs, list) or not specs:
        raise InvalidArgument(f"MLmodel signature is not a list of specs: {text!r}")
    if all(s.get("type") == "tensor" for s in specs):
        named = len(specs) > 1
        return Schema(tuple(_tensor(s, named) for s in specs), "tensor")
    columns = []
    for index, spec in enumerate(specs):
        kind = spec.get("type")
        if kind not in MLFLOW_TYPES:
            raise InvalidArgument(
                f"MLmodel signature column {spec.get('name', index)!r} has type {kind!r}, "
                f"which Gannet does not convert (known: {', '.join(MLFLOW_TYPES)})"
            )
        columns.append(ColumnSpec(str(spec.get("name", index)), MLFLOW_TYPES[kind]))
    return Schema(tuple(columns), "dataframe")


def _tensor(spec: dict, named: bool) -> ColumnSpec:
    tensor = spec.get("tensor-spec") or {}
    dtype = str(tensor.get("dtype", "float64"))
    shape = tensor.get("shape")
    return ColumnSpec(spec.get("name") if named else None, "string" if dtype == "str" else dtype,
                      None if shape is None else tuple(int(d) for d in shape))
