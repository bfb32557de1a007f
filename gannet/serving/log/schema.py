"""The inference log's on-disk format: where files go, what their rows hold, how values hide.

A format that outlives the code (see ARCHITECTURE.md). Predictions are Parquet files at
``<root>/deployment=<d>/version=<v>/date=<YYYY-MM-DD>/part-<ms>-<uuid>.parquet`` (the date
of the prediction, UTC), one row per input row::

    request_id  string               the request's id (batch inference: "<batch id>-<chunk>")
    row         int32                the row's index within its request
    timestamp   timestamp[ms, UTC]   when the request was answered
    model       string               the registered model's name
    latency_ms  float64              the request's latency
    shadow      bool                 answered by a shadow version (never returned to the caller)
    input.<c>   one per input column (an ndarray's columns are input.0, input.1, ...)
    prediction  the output (a multi-output model: prediction.<name>, or a list per row)
    proba.<i>   class probabilities, when the model gave them

Feedback (ground truth that arrives later) lives at
``<root>/feedback/deployment=<d>/date=<YYYY-MM-DD>/part-*.parquet`` with ``request_id``,
``row`` (null: the label applies to every row of the request), ``label`` and ``timestamp``.

Files appear atomically: each is written under a hidden temporary name (``.part-*.tmp``)
in its own folder, synced, then renamed; readers only look at ``*.parquet``. Files of
one partition may differ in schema (new input columns, masked ones); DuckDB reads them
with ``union_by_name``.

Masked input columns are stored as ``"***"``; hashed ones as the hex blake3 digest of
salt + the value's text, so equal values hash equally (joins still work) while the
values stay unreadable. A null stays null.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.serving.log.types import LoggedPrediction

if TYPE_CHECKING:
    from gannet.core.settings import Settings

__all__ = [
    "FEEDBACK", "MASK", "SALT_FILE", "TEMP_SUFFIX", "Partition", "check_deployment_name",
    "default_root", "feedback_table", "hash_value", "load_or_create_salt", "output_arrays",
    "partition_of", "predictions_tables", "utc_date", "write_atomically",
]

MASK = "***"
SALT_FILE = ".salt"
FEEDBACK = "feedback"
TEMP_SUFFIX = ".tmp"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_TIMESTAMP = pa.timestamp("ms", tz="UTC")


def default_root(settings: Settings) -> Path:
    """Where the log lives: the ``inference_log_url`` setting (``<home>/inference-log``)."""
    return Path(settings.inference_log_url).expanduser()


@dataclass(frozen=True, order=True)
class Partition:
    deployment: str
    version: int
    date: str  # YYYY-MM-DD, UTC

    def folder(self, root: Path) -> Path:
        return (root / f"deployment={self.deployment}" / f"version={self.version}"
                / f"date={self.date}")


def check_deployment_name(name: str) -> str:
    """``name`` if it can be a folder name of the log, else InvalidArgument."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"{name!r} is not a valid deployment name for the inference log",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


def utc_date(timestamp_ms: int) -> str:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).strftime("%Y-%m-%d")


def partition_of(prediction: LoggedPrediction) -> Partition:
    return Partition(prediction.deployment, int(prediction.version),
                     utc_date(prediction.timestamp_ms))


def warm_up() -> None:
    """Do the imports the first write would (pyarrow loads pandas on its first conversion)."""
    pa.array(np.zeros(1))


# -- files ---------------------------------------------------------------------------------


def write_atomically(table: pa.Table, folder: Path, *, compression: str | None = "zstd") -> Path:
    """``table`` as a new ``part-<ms>-<uuid>.parquet`` in ``folder``: temp name, fsync, rename."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{now_ms():013d}-{uuid.uuid4().hex}.parquet"
    temp = folder / f".{name}{TEMP_SUFFIX}"
    try:
        with open(temp, "wb") as stream:
            pq.write_table(table, stream, compression=compression or "none")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, folder / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return folder / name


def load_or_create_salt(root: Path) -> bytes:
    """The log's salt from ``<root>/.salt`` (mode 0600), made once at random when missing.

    Made under a temporary name and hard-linked into place, so two processes starting at
    once agree on one salt and nobody reads a half-written file.
    """
    path = root / SALT_FILE
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        temp = root / f"{SALT_FILE}.{uuid.uuid4().hex}{TEMP_SUFFIX}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(secrets.token_bytes(32))
                stream.flush()
                os.fsync(stream.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temp.unlink(missing_ok=True)
    salt = path.read_bytes()
    if not salt:
        raise InvalidArgument(f"{path} is empty", hint="delete it to make a new salt (hashes "
                              "written with the old one will no longer match)")
    return salt


def hash_value(salt: bytes, value: Any) -> str | None:
    """The hex blake3 digest of salt + the value's text (bytes as they are); None stays None."""
    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return blake3.blake3(salt + data).hexdigest()


# -- predictions as rows -------------------------------------------------------------------


@dataclass
class _Rows:
    """One prediction, normalised: ``n`` rows of numpy arrays. Inputs of one dtype are a
    ``matrix`` (n x k, columns ``names``), cheap to take from a DataFrame and to stack;
    every other column is in ``columns`` (1-D, or 2-D for a list per row)."""

    prediction: LoggedPrediction
    n: int
    names: list[str]  # the input columns, bare
    matrix: np.ndarray | None
    columns: dict[str, np.ndarray]
    layout: tuple  # what a table of these columns looks like; equal layouts concatenate


def predictions_tables(
    predictions: Sequence[LoggedPrediction],
    salt: bytes | None,
    on_error: Callable[[LoggedPrediction, Exception], None] | None = None,
) -> list[pa.Table]:
    """The log rows of ``predictions`` (one partition's worth): one Arrow table, or one per
    layout when their columns' types cannot be unified (a column both numbers and text).

    A prediction that cannot be read as rows (outputs and inputs of different lengths, ...)
    is left out and given to ``on_error``; without one, the error is raised.
    """
    groups: dict[tuple, list[_Rows]] = {}
    for p in predictions:
        try:
            rows = _normalise(p)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(p, exc)
            continue
        groups.setdefault(rows.layout, []).append(rows)
    tables = [_group_table(group, salt) for group in groups.values()]
    if len(tables) == 1:
        return tables
    try:
        return [pa.concat_tables(tables, promote_options="permissive")]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return tables


def _normalise(p: LoggedPrediction) -> _Rows:
    names, matrix, inputs = _inputs(p.inputs)
    columns = {f"input.{name}": values for name, values in inputs.items()}
    columns.update(_output_columns(p.outputs))
    if p.probabilities is not None:
        columns.update(_proba_columns(p.probabilities))
    n = len(matrix if matrix is not None else next(iter(columns.values()), ()))
    for name, values in columns.items():
        if len(values) != n:
            raise InvalidArgument(f"request {p.request_id}: {name} has {len(values)} rows, "
                                  f"the input has {n}")
    masked = _hidden(p.extra.get("masked"), names)
    hashed = _hidden(p.extra.get("hashed"), names) - masked
    shape = tuple((name, values.ndim, values.shape[1] if values.ndim > 1 else 0)
                  for name, values in columns.items())
    stacked = None if matrix is None else (tuple(names), matrix.dtype.str)
    layout = (stacked, shape, tuple(sorted(masked)), tuple(sorted(hashed)))
    return _Rows(p, n, names, matrix, columns, layout)


def _hidden(names: Iterable[str] | None, inputs: list[str]) -> set[str]:
    """The ``input.<c>`` names among ``names`` (given bare or with the prefix)."""
    if not names:
        return set()
    if isinstance(names, str):
        names = (names,)
    wanted = {str(n).removeprefix("input.") for n in names}
    return {f"input.{c}" for c in inputs if c in wanted}


def _is_frame(value: Any) -> bool:
    """A pandas DataFrame? (Without importing pandas: no DataFrame exists unless it is.)"""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def _inputs(inputs: Any) -> tuple[list[str], np.ndarray | None, dict[str, np.ndarray]]:
    """Input column names, and their values as one matrix or as columns."""
    if _is_frame(inputs):
        names = [str(c) for c in inputs.columns.tolist()]
        column = getattr(inputs, "_get_column_array", None)  # pandas internals: 20x faster
        blocks: Sequence[Any] = getattr(getattr(inputs, "_mgr", None), "blocks", ())
        if len(blocks) == 1 and getattr(blocks[0].dtype, "kind", "") in "biuf":
            return names, inputs.to_numpy(), {}
        if column is None:
            return names, None, {n: inputs.iloc[:, i].to_numpy() for i, n in enumerate(names)}
        return names, None, {n: _numpy(column(i)) for i, n in enumerate(names)}
    if isinstance(inputs, Mapping):  # several named tensors
        columns = {str(k): _rows_of(_as_array(v)) for k, v in inputs.items()}
        return list(columns), None, columns
    if inputs is None:
        return [], None, {}
    array = _as_array(inputs)
    if array.ndim == 2 and array.dtype.kind in "biuf":
        return [str(i) for i in range(array.shape[1])], array, {}
    if array.ndim == 2:
        columns = {str(i): array[:, i] for i in range(array.shape[1])}
        return list(columns), None, columns
    return ["0"], None, {"0": _rows_of(array)}


def _output_columns(outputs: Any) -> dict[str, np.ndarray]:
    if _is_frame(outputs):
        if outputs.shape[1] == 1:
            return {"prediction": outputs.iloc[:, 0].to_numpy()}
        return {f"prediction.{c}": outputs.iloc[:, i].to_numpy()
                for i, c in enumerate(outputs.columns)}
    if isinstance(outputs, Mapping):
        return {f"prediction.{k}": _rows_of(_as_array(v)) for k, v in outputs.items()}
    array = _as_array(outputs)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    return {"prediction": _rows_of(array)}


def output_arrays(outputs: Any, probabilities: Any = None) -> dict[str, pa.Array]:
    """A model's outputs as the log names them: ``prediction`` (or ``prediction.<name>``)
    and ``proba.<i>`` columns (batch inference writes the same)."""
    columns = _output_columns(outputs)
    if probabilities is not None:
        columns.update(_proba_columns(probabilities))
    return {name: _to_arrow(values) for name, values in columns.items()}


def _proba_columns(probabilities: Any) -> dict[str, np.ndarray]:
    proba = _as_array(probabilities)
    proba = proba.reshape(len(proba), -1)
    return {f"proba.{i}": proba[:, i] for i in range(proba.shape[1])}


def _numpy(values: Any) -> np.ndarray:
    return values if type(values) is np.ndarray else np.asarray(values)


def _as_array(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    to_numpy = getattr(values, "to_numpy", None)  # pandas Series, torch-like tensors
    if callable(to_numpy):
        return np.asarray(to_numpy())
    return np.asarray(values)


def _rows_of(array: np.ndarray) -> np.ndarray:
    """1-D as is, a scalar as one row, more dimensions flattened to one list per row."""
    if array.ndim == 0:
        return array.reshape(1)
    if array.ndim > 2:
        return array.reshape(len(array), -1)
    return array


def _group_table(group: list[_Rows], salt: bytes | None) -> pa.Table:
    counts = np.fromiter((r.n for r in group), dtype=np.int64, count=len(group))
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts

    def repeated(values: list[Any], dtype: Any, arrow: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(np.asarray(values, dtype=dtype), counts), arrow)

    ps = [r.prediction for r in group]
    arrays = {
        "request_id": repeated([p.request_id for p in ps], object, pa.string()),
        "row": pa.array((np.arange(total) - np.repeat(starts, counts)).astype(np.int32)),
        "timestamp": repeated([p.timestamp_ms for p in ps], np.int64, _TIMESTAMP),
        "model": repeated([p.model for p in ps], object, pa.string()),
        "latency_ms": repeated([p.latency_ms for p in ps], np.float64, pa.float64()),
        "shadow": repeated([bool(p.shadow) for p in ps], bool, pa.bool_()),
    }
    first = group[0]
    _, _, masked, hashed = first.layout

    def column(name: str, values: Callable[[], np.ndarray]) -> pa.Array:
        if name in masked:
            return pa.array([MASK] * total, pa.string())  # the values are never looked at
        if name in hashed:
            if salt is None:
                raise InvalidArgument("hashing columns needs a salt")
            return pa.array([hash_value(salt, v) for v in _plain(values())], pa.string())
        return _to_arrow(values())

    if first.matrix is not None:
        matrix = _stack([r.matrix for r in group if r.matrix is not None])
        for j, name in enumerate(first.names):
            arrays[f"input.{name}"] = column(f"input.{name}", partial(_column_of, matrix, j))
    for name in first.columns:
        arrays[name] = column(name, partial(_stack, [r.columns[name] for r in group]))
    return pa.table(arrays)


def _column_of(matrix: np.ndarray, j: int) -> np.ndarray:
    return matrix[:, j]


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _plain(values: np.ndarray) -> list[Any]:
    """Python values, with NaN and pandas' NA as None (so a missing value hashes to null)."""
    pd = sys.modules.get("pandas")
    na = pd.NA if pd is not None else None
    return [None if v is None or v is na or (isinstance(v, float) and v != v) else v
            for v in values.tolist()]


def _to_arrow(values: np.ndarray) -> pa.Array:
    if values.ndim == 2:
        flat = _to_arrow(np.ascontiguousarray(values).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    if values.dtype.kind != "O":
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = values.astype(object)
    try:
        return pa.array(values, from_pandas=True)  # None, NaN and pandas' NA become null
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in _plain(values)], pa.string())


# -- feedback ------------------------------------------------------------------------------


def feedback_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Feedback rows (``request_id``, ``row``, ``label``, ``timestamp_ms``) as a table."""
    labels = [_label(r["label"]) for r in records]
    try:
        label_array = pa.array(labels)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        label_array = pa.array([str(v) for v in labels], pa.string())
    return pa.table({
        "request_id": pa.array([r["request_id"] for r in records], pa.string()),
        "row": pa.array([r.get("row") for r in records], pa.int32()),
        "label": label_array,
        "timestamp": pa.array([r["timestamp_ms"] for r in records], _TIMESTAMP),
    })


def _label(value: Any) -> Any:
    if value is None:
        raise InvalidArgument("a feedback label cannot be None")
    item = getattr(value, "item", None)  # numpy scalars as Python values
    return item() if callable(item) and np.ndim(value) == 0 else value
