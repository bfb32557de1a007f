"""Materializers: how a step's output becomes bytes in the blob store, chosen by type.

Built in, in the order they are tried: dataset versions (``gannet.data.DatasetVersion``,
by reference: the version's record, never its files), pandas, polars and Arrow tables
(Parquet), numpy arrays (``.npy``), JSON-able values (``None``, bool, numbers, text, lists
and dicts of them), and model objects (the model package format of ``gannet.models``,
stored as a folder). ``register_materializer`` adds another, tried before the built-in
ones: Gannet's own are registered the same way. A value no materializer takes is refused
with its type.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.store.blobs import BlobStore

HOW_TO_REGISTER = (
    "register one: gannet.pipelines.register_materializer(TheType, save=lambda value, path: "
    "..., load=lambda path: ...) (docs/pipelines.md, 'Materializers')"
)


@dataclass(frozen=True)
class Materializer:
    """``save(value, path)`` writes a file (or, with ``folder``, a folder) at ``path``;
    ``load(path)`` reads it back. ``matches(value)`` says whether it takes a value."""

    name: str
    matches: Callable[[Any], bool]
    save: Callable[[Any, Path], None]
    load: Callable[[Path], Any]
    folder: bool = False


@dataclass(frozen=True)
class StoredValue:
    """An output in the blob store: its digest, size, materializer and Python type."""

    digest: str
    size: int
    materializer: str
    type_name: str

    def to_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "size": self.size, "materializer": self.materializer,
                "type": self.type_name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredValue:
        return cls(data["digest"], int(data["size"]), data["materializer"], data["type"])


_registered: list[Materializer] = []
_registered_types: list[type] = []  # stored whole even when they are dataclasses
_lock = threading.Lock()
DATASET_VERSION = "dataset-version"


def register_materializer(
    kind: type | Callable[[Any], bool],
    *,
    save: Callable[[Any, Path], None],
    load: Callable[[Path], Any],
    name: str | None = None,
    folder: bool = False,
) -> Materializer:
    """Store values of ``kind`` (a type, or a predicate) with ``save``/``load``; a later
    registration wins over an earlier one and over the built-in materializers."""
    matches: Callable[[Any], bool]
    if isinstance(kind, type):
        matches = _instance_of(kind)
        label = name or f"{kind.__module__}.{kind.__qualname__}"
        with _lock:
            _registered_types.append(kind)
    else:
        matches, label = kind, name or str(getattr(kind, "__name__", "custom"))
    made = Materializer(label, matches, save, load, folder)
    with _lock:
        _registered[:] = [m for m in _registered if m.name != label]
        _registered.insert(0, made)
    return made


def _instance_of(kind: type) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, kind)


def stores_whole(kind: Any) -> bool:
    """Whether a step returning ``kind`` (a dataclass, say) has one output of that type
    rather than one per field: a dataset version, or a type given a materializer."""
    from gannet.data.types import DatasetVersion

    if not isinstance(kind, type):
        return False
    with _lock:
        registered = list(_registered_types)
    return any(issubclass(kind, t) for t in [DatasetVersion, *registered])


def materializer_for(value: Any, step: str) -> Materializer:
    for m in [*_registered, *_BUILT_IN]:
        if m.matches(value):
            return m
    kind = type(value)
    raise InvalidArgument(
        f"step {step!r} returned a {kind.__module__}.{kind.__qualname__}, which no "
        "materializer can store",
        HOW_TO_REGISTER,
    )


def materializer_named(name: str) -> Materializer:
    for m in [*_registered, *_BUILT_IN]:
        if m.name == name:
            return m
    raise InvalidArgument(
        f"no materializer {name!r} is registered in this process",
        "import the module that registers it before loading this output",
    )


def store_value(blobs: BlobStore, value: Any, step: str) -> StoredValue:
    """Write ``value`` to the blob store through its materializer."""
    m = materializer_for(value, step)
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if m.name == "json":  # the common small case: no temporary file
        ref = blobs.put_bytes(_json_bytes(value))
        return StoredValue(ref.digest, ref.size, m.name, kind)
    with tempfile.TemporaryDirectory(prefix="gannet-output-") as tmp:
        path = Path(tmp) / "value"
        m.save(value, path)
        if m.folder:
            ref, _ = blobs.put_tree(path)
        else:
            ref = blobs.put_file(path)
    return StoredValue(ref.digest, ref.size, m.name, kind)


def load_value(blobs: BlobStore, stored: StoredValue) -> Any:
    """The value ``stored`` holds, read back by its materializer."""
    m = materializer_named(stored.materializer)
    if m.name == "json":
        return json.loads(blobs.get_bytes(stored.digest))
    if m.folder:  # kept by digest: a loaded model may read its files later
        folder = Path(tempfile.gettempdir()) / f"gannet-outputs-{os.getuid()}" / stored.digest
        if not folder.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_made(folder.parent)))
            blobs.get_tree(stored.digest, staging / "value")
            try:
                os.replace(staging / "value", folder)
            except OSError:  # another process put it there first
                pass
        return m.load(folder)
    with tempfile.TemporaryDirectory(prefix="gannet-input-") as tmp:
        path = Path(tmp) / "value"
        blobs.get_file(stored.digest, path)
        return m.load(path)


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- the built-in materializers -------------------------------------------------------------


def _of(module: str, *names: str) -> Callable[[Any], bool]:
    def matches(value: Any) -> bool:
        kind = type(value)
        return kind.__module__.split(".")[0] == module and kind.__name__ in names

    return matches


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True, separators=(",", ":")).encode()


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _is_model(value: Any) -> bool:
    from gannet.models import flavors

    try:
        flavors.detect(value)
    except InvalidArgument:
        return False
    return True


def _save_pandas(value: Any, path: Path) -> None:
    value.to_parquet(path)


def _load_pandas(path: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(path)


def _save_polars(value: Any, path: Path) -> None:
    value.write_parquet(path)


def _load_polars(path: Path) -> Any:
    import polars as pl

    return pl.read_parquet(path)


def _save_arrow(value: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(value, path)


def _load_arrow(path: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def _save_numpy(value: Any, path: Path) -> None:
    import numpy as np

    with open(path, "wb") as f:
        np.save(f, value, allow_pickle=False)


def _load_numpy(path: Path) -> Any:
    import numpy as np

    return np.load(path, allow_pickle=False)


def _save_model(value: Any, path: Path) -> None:
    from gannet.models import save_model

    save_model(value, path)


def _load_model(path: Path) -> Any:
    from gannet.models import load_package

    # this run's own output, read back from the content-addressed store it was written to
    return load_package(path, trust=True).raw


def _save_dataset_version(value: Any, path: Path) -> None:
    path.write_bytes(json.dumps(value.to_dict(), sort_keys=True).encode())


def _load_dataset_version(path: Path) -> Any:
    from gannet.data.types import DatasetVersion

    return DatasetVersion.from_dict(json.loads(path.read_bytes()))


_BUILT_IN = [
    Materializer(DATASET_VERSION, _of("gannet", "DatasetVersion"), _save_dataset_version,
                 _load_dataset_version),
    Materializer("parquet-pandas", _of("pandas", "DataFrame"), _save_pandas, _load_pandas),
    Materializer("parquet-polars", _of("polars", "DataFrame"), _save_polars, _load_polars),
    Materializer("parquet-arrow", _of("pyarrow", "Table"), _save_arrow, _load_arrow),
    Materializer("numpy", _of("numpy", "ndarray"), _save_numpy, _load_numpy),
    Materializer("json", _is_json, lambda v, p: _write(p, _json_bytes(v)),
                 lambda p: json.loads(p.read_bytes())),
    Materializer("model", _is_model, _save_model, _load_model, folder=True),
]
