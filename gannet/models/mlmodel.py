"""The ``MLmodel`` file every package carries, so MLflow's tools can load and serve it.

``mlflow.pyfunc.load_model(package)``, ``mlflow models serve``, MLServer's and KServe's
MLflow runtimes read a folder's ``MLmodel``. Ours names the ``python_function`` flavor
with the loader ``gannet.models.mlflow_pyfunc`` (so MLflow's predict goes through
Gannet's: files verified against the manifest, input checked against the signature,
code of the package run only when trusted), plus MLflow's own ``sklearn`` flavor where
MLflow can read the file as it is: a skops or (cloud)pickle file of a scikit-learn model,
which is exactly what MLflow's sklearn flavor loads. ``requirements.txt`` and
``python_env.yaml`` beside it let MLflow build an environment (Gannet itself is in it:
the loader lives there).

These files are written before the manifest, so they are listed in it with their digests
and covered by the registry's signature like every other file. Packages written before
they existed have none and load as before. Nothing here imports mlflow.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from gannet.core.version import DISTRIBUTION, VERSION
from gannet.models.manifest import MANIFEST, ModelMeta
from gannet.models.signature import Schema, Signature

__all__ = ["MLMODEL", "PYFUNC_LOADER", "mlflow_signature", "write_mlflow_files"]

MLMODEL = "MLmodel"
REQUIREMENTS = "requirements.txt"
PYTHON_ENV = "python_env.yaml"
PYFUNC_LOADER = "gannet.models.mlflow_pyfunc"
# our dtype -> MLflow's column type (MLflow's DataType names)
COLUMN_TYPES = {
    "float64": "double", "float32": "float", "int64": "long", "int32": "integer",
    "bool": "boolean", "string": "string", "datetime64[ns]": "datetime",
}
SKLEARN_FILES = {"skops": ("model.skops", "skops"), "pickle": ("model.pkl", "pickle")}


def write_mlflow_files(folder: Path, meta: ModelMeta) -> list[str]:
    """Write ``MLmodel``, ``requirements.txt`` and ``python_env.yaml`` into the package being
    built at ``folder`` (a file a flavor wrote itself is left alone); returns those written."""
    files = {
        MLMODEL: yaml.safe_dump(_mlmodel(meta), sort_keys=False),
        REQUIREMENTS: "".join(f"{line}\n" for line in _requirements(meta)),
        PYTHON_ENV: yaml.safe_dump({
            "python": meta.python_version,
            "build_dependencies": ["pip"],
            "dependencies": [f"-r {REQUIREMENTS}"],
        }, sort_keys=False),
    }
    written = []
    for name, text in files.items():
        if not (folder / name).exists():
            (folder / name).write_text(text, encoding="utf-8")
            written.append(name)
    return written


def _mlmodel(meta: ModelMeta) -> dict[str, Any]:
    flavors: dict[str, Any] = {
        "python_function": {
            "loader_module": PYFUNC_LOADER,
            "python_version": meta.python_version,
            "env": {"virtualenv": PYTHON_ENV},
            "predict_fn": "predict",
        },
    }
    sklearn = _sklearn_flavor(meta)
    if sklearn is not None:
        flavors["sklearn"] = sklearn
    doc: dict[str, Any] = {
        "flavors": flavors,
        "model_uuid": uuid.uuid4().hex,
        "run_id": meta.run_id,
        "utc_time_created": _mlflow_time(meta.created),
        "metadata": {"gannet_flavor": meta.flavor, "gannet_manifest": MANIFEST},
    }
    signature = mlflow_signature(meta.signature)
    if signature is not None:
        doc["signature"] = signature
    return doc


def _sklearn_flavor(meta: ModelMeta) -> dict[str, Any] | None:
    """MLflow's ``sklearn`` flavor entry, only for a file MLflow's sklearn flavor reads."""
    if meta.flavor != "sklearn" or meta.serialization not in SKLEARN_FILES:
        return None
    name, fmt = SKLEARN_FILES[meta.serialization]
    if fmt == "pickle" and meta.extra.get("pickle_module") == "cloudpickle":
        fmt = "cloudpickle"  # imported from MLflow as it was written
    entry: dict[str, Any] = {
        "pickled_model": name,
        "serialization_format": fmt,
        "sklearn_version": meta.libraries.get("scikit-learn"),
        "code": None,
    }
    if fmt == "skops":
        entry["skops_trusted_types"] = list(meta.extra.get("skops_trusted") or [])
    return entry


def mlflow_signature(signature: Signature | None) -> dict[str, Any] | None:
    """Our signature in MLmodel's form (JSON strings of column or tensor specs), or None
    when a column's type has no MLflow equivalent (MLflow then checks nothing; Gannet's
    predict still checks its own signature)."""
    if signature is None:
        return None
    inputs = _specs(signature.inputs)
    outputs = _specs(signature.outputs) if signature.outputs is not None else None
    if inputs is None:
        return None
    return {
        "inputs": json.dumps(inputs),
        "outputs": json.dumps(outputs) if outputs is not None else None,
        "params": None,
    }


def _specs(schema: Schema) -> list[dict[str, Any]] | None:
    specs: list[dict[str, Any]] = []
    for column in schema.columns:
        if schema.kind == "tensor":
            dtype = "str" if column.dtype == "string" else column.dtype
            spec: dict[str, Any] = {"type": "tensor", "tensor-spec": {
                "dtype": dtype, "shape": list(column.shape) if column.shape else [-1]}}
        elif column.dtype in COLUMN_TYPES:
            spec = {"type": COLUMN_TYPES[column.dtype], "required": True}
        else:
            return None
        if column.name is not None:
            spec["name"] = column.name
        specs.append(spec)
    return specs


def _requirements(meta: ModelMeta) -> list[str]:
    lines = [f"{DISTRIBUTION}=={VERSION}", *meta.requirements]
    return list(dict.fromkeys(lines))


def _mlflow_time(created: str) -> str:
    """ISO-8601 UTC (``2024-06-01T12:00:00Z``) as MLflow writes it
    (``2024-06-01 12:00:00.000000``)."""
    try:
        moment = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        moment = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
