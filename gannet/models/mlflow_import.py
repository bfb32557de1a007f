"""Convert an MLflow model folder (``MLmodel`` and its files) into a Gannet model package.

What MLflow 3 writes by default is imported, mlflow itself is not needed to import it:

- ``sklearn`` saved with **skops** (MLflow 3's default) becomes our sklearn flavor's
  ``model.skops`` and loads with its rules: only types of scikit-learn, numpy and scipy
  are trusted, whatever the MLmodel's ``skops_trusted_types`` says; a file holding any
  other type is refused at import, naming the types;
- ``sklearn`` saved as a **pickle or cloudpickle** stays a pickle (serialization
  "pickle"): it loads only with ``trust=True`` or once the registry has signed it;
- ``python_function`` models of a ``PythonModel`` (loader ``mlflow.pyfunc.model``,
  cloudpickled or defined by a script) become our ``python`` flavor, the MLflow folder
  kept whole under ``artifacts/`` and loaded by mlflow through
  ``gannet.models.mlflow_pyfunc.MlflowPythonModel``: it runs code, so the same rule.

What MLflow knew is kept: the signature (MLflow's JSON column and tensor specs, converted
to ours), the input example (MLflow's ``serving_input_example.json`` is our
``input_example.json``), the run id (``run_id``, or the one the caller maps it to, the
MLflow one then kept in ``extra``), the pip requirements and the library versions, and the
original ``MLmodel`` and environment files under ``mlflow/`` for the record.
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
from gannet.models.manifest import INPUT_EXAMPLE, ModelMeta
from gannet.models.package import seal, staging
from gannet.models.signature import ColumnSpec, Schema, Signature

__all__ = ["MLFLOW_TYPES", "SUPPORTED", "import_mlflow_model"]

MLFLOW_TYPES = {
    "double": "float64", "float": "float32", "long": "int64", "integer": "int32",
    "boolean": "bool", "string": "string", "binary": "object", "datetime": "datetime64[ns]",
}
SKLEARN_FORMATS = ("skops", "cloudpickle", "pickle")
SUPPORTED = (
    "'sklearn' (skops, pickle or cloudpickle) and 'python_function' models of a "
    "PythonModel (loader mlflow.pyfunc.model)"
)
RECORD_FILES = ("MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt")
SERVING_EXAMPLE = "serving_input_example.json"
PICKLE_FILE = "model.pkl"
SKOPS_FILE = "model.skops"
PYTHON_MODEL_CLASS = "gannet.models.mlflow_pyfunc:MlflowPythonModel"


def import_mlflow_model(
    mlflow_dir: str | os.PathLike, dest: str | os.PathLike, *, run_id: str | None = None
) -> ModelMeta:
    """Write the model of the MLflow folder ``mlflow_dir`` as a package at ``dest``.

    ``run_id`` is the Gannet run the package comes from, when the caller copied the MLflow
    run (the MLflow run id stays in ``extra["mlflow_run_id"]``); else the MLmodel's.
    """
    source = Path(mlflow_dir)
    if not (source / "MLmodel").is_file():
        raise NotFound(f"{source} is not an MLflow model folder: it has no MLmodel file")
    doc = yaml.safe_load((source / "MLmodel").read_text(encoding="utf-8")) or {}
    found = doc.get("flavors") or {}
    loader = (found.get("python_function") or {}).get("loader_module")
    if "sklearn" in found or loader == "mlflow.sklearn":
        return _import_sklearn(source, doc, Path(dest), run_id)
    if loader == "mlflow.pyfunc.model":
        return _import_python_model(source, doc, Path(dest), run_id)
    named = ", ".join(f"{k} (loader {v.get('loader_module')})" if k == "python_function"
                      and isinstance(v, dict) else str(k) for k, v in found.items())
    raise InvalidArgument(
        f"{source} holds the MLflow flavors {named or 'none'}: Gannet imports {SUPPORTED}",
        hint="load it with mlflow and save the underlying model with gannet.models.save_model, "
        "or wrap it in a class of your own (the 'python' flavor)",
    )


def _import_sklearn(source: Path, doc: dict, dest: Path, run_id: str | None) -> ModelMeta:
    model_file, fmt, sklearn_version = _sklearn_model(source, doc)
    requirements = _requirements(source)
    extra: dict[str, Any] = {}
    if fmt == "skops":
        extra["skops_trusted"] = _skops_types(model_file)
        serialization, target = "skops", SKOPS_FILE
    else:
        extra["pickle_module"] = fmt
        serialization, target = "pickle", PICKLE_FILE
        if fmt == "cloudpickle" and not any(r.startswith("cloudpickle") for r in requirements):
            requirements.append("cloudpickle")
    libraries = {"scikit-learn": str(sklearn_version)} if sklearn_version else {}
    meta = _meta(flavors.get("sklearn"), source, doc, run_id, requirements, libraries,
                 serialization, extra)
    with staging(dest) as folder:
        shutil.copyfile(model_file, folder / target)
        _keep_record(source, folder)
        return seal(folder, dest, meta)


def _import_python_model(source: Path, doc: dict, dest: Path, run_id: str | None) -> ModelMeta:
    from gannet.models.flavors.python import ARTIFACTS

    links = [p for p in source.rglob("*") if p.is_symlink()]
    if links:
        raise InvalidArgument(f"{source} holds symlinks ({links[0]}): a model package cannot")
    requirements = _requirements(source)
    if not any(r.split("=")[0].strip() in ("mlflow", "mlflow-skinny") for r in requirements):
        requirements.append("mlflow")
    extra = {"class": PYTHON_MODEL_CLASS}
    meta = _meta(flavors.get("python"), source, doc, run_id, requirements,
                 flavors.versions("mlflow", "cloudpickle"), "python-class", extra)
    with staging(dest) as folder:
        shutil.copytree(source, folder / ARTIFACTS)
        _keep_record(source, folder, record=False)
        return seal(folder, dest, meta)


def _meta(
    flavor: flavors.Flavor, source: Path, doc: dict, run_id: str | None,
    requirements: list[str], libraries: dict[str, str], serialization: str, extra: dict,
) -> ModelMeta:
    pyfunc = (doc.get("flavors") or {}).get("python_function") or {}
    return ModelMeta(
        flavor=flavor.name,
        loader=flavor.loader,
        signature=convert_signature(doc.get("signature")),
        python_version=str(pyfunc.get("python_version") or _python_version(source)),
        libraries=libraries,
        requirements=tuple(requirements),
        files={},
        run_id=run_id or doc.get("run_id"),
        serialization=serialization,
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        extra={
            "imported_from": "mlflow",
            "mlflow_version": doc.get("mlflow_version"),
            "model_uuid": doc.get("model_uuid"),
            "mlflow_run_id": doc.get("run_id"),
            "mlflow_model_id": doc.get("model_id"),
            **extra,
        },
    )


def _keep_record(source: Path, folder: Path, *, record: bool = True) -> None:
    """MLflow's serving input example as ours; its MLmodel and environment files under
    ``mlflow/`` (``record``; a python_function model keeps its whole folder anyway)."""
    if (source / SERVING_EXAMPLE).is_file():
        shutil.copyfile(source / SERVING_EXAMPLE, folder / INPUT_EXAMPLE)
    if record:
        (folder / "mlflow").mkdir()
        for name in RECORD_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, folder / "mlflow" / name)


def _sklearn_model(source: Path, doc: dict) -> tuple[Path, str, str | None]:
    """The model file, its serialization format and the sklearn version the MLmodel names."""
    found = doc.get("flavors") or {}
    sklearn, pyfunc = found.get("sklearn"), found.get("python_function") or {}
    if sklearn:
        name = sklearn.get("pickled_model") or PICKLE_FILE
        fmt = sklearn.get("serialization_format") or "cloudpickle"
        version = sklearn.get("sklearn_version")
    else:
        name = pyfunc.get("model_path") or PICKLE_FILE
        fmt = "skops" if str(name).endswith(".skops") else "cloudpickle"
        version = None
    if fmt not in SKLEARN_FORMATS:
        raise InvalidArgument(
            f"{source}: the sklearn model's serialization_format {fmt!r} is not one Gannet "
            f"imports ({', '.join(SKLEARN_FORMATS)})",
            hint="save it again with mlflow.sklearn.save_model(..., serialization_format='skops')",
        )
    return _inside(source, str(name)), str(fmt), version


def _skops_types(path: Path) -> list[str]:
    """The types the skops file needs trusted, if our sklearn flavor trusts all of them
    (scikit-learn, numpy, scipy, builtin types); else InvalidArgument naming the others.
    The file is parsed, not loaded: nothing of it runs."""
    import skops.io as sio

    from gannet.models.flavors.sklearn import auto_trusted

    try:
        needed = sorted(sio.get_untrusted_types(file=path))
    except Exception as exc:
        raise InvalidArgument(f"{path} is not a skops file skops can read: "
                              f"{type(exc).__name__}: {exc}") from exc
    refused = [t for t in needed if not auto_trusted(t)]
    if refused:
        raise InvalidArgument(
            f"{path} holds types outside scikit-learn, numpy and scipy ({', '.join(refused)}), "
            "which Gannet's sklearn flavor does not trust, whatever the MLmodel lists",
            hint="load it with mlflow (trusting those types) and save it with "
            "gannet.models.save_model, which keeps such a model as a pickle that loads only "
            "when signed or trusted",
        )
    return needed


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
    if len(specs) == 1 and "name" not in specs[0] and specs[0].get("type") in MLFLOW_TYPES:
        # one unnamed column (a classifier's labels): a 1-D array
        return Schema((ColumnSpec(None, MLFLOW_TYPES[specs[0]["type"]], (-1,)),), "tensor")
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
