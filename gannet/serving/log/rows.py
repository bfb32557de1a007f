"""The inference log's rows: answered requests turned into Arrow tables, in bulk.

The writer's background thread calls ``predictions_tables`` once per partition and flush
with thousands of ``LoggedPrediction``s. The common shapes - a number ``Matrix`` or a
mapping of column lists in, ndarrays out, as the inference server hands them over - are
grouped by a cheap key and stacked with one ``np.concatenate`` per column
(``_stacked_tables``: about a microsecond per request); anything else (DataFrames, tensors,
odd outputs) is normalised one request at a time, as before, and rows that cannot be read
are reported, not written. The columns are ``schema``'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa

from gannet.core.errors import InvalidArgument
from gannet.serving.log.schema import MASK, hash_value
from gannet.serving.log.schema import TIMESTAMP as _TIMESTAMP
from gannet.serving.log.types import LoggedPrediction, Matrix

__all__ = ["combined", "output_arrays", "predictions_tables"]


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
    tables, slow = _stacked_tables(predictions, salt)
    groups: dict[tuple, list[_Rows]] = {}
    for p in slow:
        try:
            rows = _normalise(p)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(p, exc)
            continue
        groups.setdefault(rows.layout, []).append(rows)
    tables += [_group_table(group, salt) for group in groups.values()]
    return combined(tables)


def combined(tables: list[pa.Table]) -> list[pa.Table]:
    """Tables bound for one file as one (columns unified by name), or as they are when
    their types cannot be unified (one column both numbers and text)."""
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
    if isinstance(inputs, Matrix):
        values = _as_array(inputs.values)
        if values.ndim == 2 and values.dtype.kind in "biuf":
            return list(inputs.names), values, {}
        return _inputs(dict(zip(inputs.names, values.T, strict=True)))
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
    first = group[0]
    _, _, masked, hashed = first.layout
    matrix = None
    if first.matrix is not None:
        matrix = _stack([r.matrix for r in group if r.matrix is not None])
    columns = {name: partial(_stack, [r.columns[name] for r in group]) for name in first.columns}
    return _table([r.prediction for r in group], counts, first.names, matrix, columns,
                  (masked, hashed), salt)


def _table(
    ps: list[LoggedPrediction],
    counts: np.ndarray,
    names: Sequence[str],
    matrix: np.ndarray | None,
    columns: Mapping[str, Callable[[], np.ndarray]],
    hidden: tuple[Iterable[str], Iterable[str]],
    salt: bytes | None,
) -> pa.Table:
    """The table of requests ``ps`` (``counts`` rows each): their request columns, then the
    input ``matrix`` (columns ``names``) and the other ``columns``, masked and hashed as
    ``hidden`` (masked, hashed ``input.<c>`` names) says."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    masked, hashed = hidden

    def repeated(values: list[Any], dtype: Any, arrow: pa.DataType) -> pa.Array:
        if total == len(values):  # one row per request: nothing to repeat
            return pa.array(np.asarray(values, dtype=dtype), arrow)
        return pa.array(np.repeat(np.asarray(values, dtype=dtype), counts), arrow)

    arrays = {
        "request_id": repeated([p.request_id for p in ps], object, pa.string()),
        "row": pa.array((np.arange(total) - np.repeat(starts, counts)).astype(np.int32)),
        "timestamp": repeated([p.timestamp_ms for p in ps], np.int64, _TIMESTAMP),
        "model": repeated([p.model for p in ps], object, pa.string()),
        "latency_ms": repeated([p.latency_ms for p in ps], np.float64, pa.float64()),
        "shadow": repeated([bool(p.shadow) for p in ps], bool, pa.bool_()),
    }

    def column(name: str, values: Callable[[], np.ndarray]) -> pa.Array:
        if name in masked:
            return pa.array([MASK] * total, pa.string())  # the values are never looked at
        if name in hashed:
            if salt is None:
                raise InvalidArgument("hashing columns needs a salt")
            return pa.array([hash_value(salt, v) for v in _plain(values())], pa.string())
        return _to_arrow(values())

    if matrix is not None:
        for j, name in enumerate(names):
            arrays[f"input.{name}"] = column(f"input.{name}", partial(_column_of, matrix, j))
    for name, values in columns.items():
        arrays[name] = column(name, values)
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
    if values.ndim == 2:  # a list per row; variable-size lists, as pyarrow < 26 cannot
        # read back a fixed-size list column with nulls (a table that lacks it, merged)
        flat = _to_arrow(np.ascontiguousarray(values).reshape(-1))
        offsets = np.arange(len(values) + 1, dtype=np.int32) * values.shape[1]
        return pa.ListArray.from_arrays(pa.array(offsets), flat)
    if values.dtype.kind != "O":
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = values.astype(object)
    try:
        return pa.array(values, from_pandas=True)  # None, NaN and pandas' NA become null
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in _plain(values)], pa.string())


# -- the fast path: whole groups of requests at once ---------------------------------------


def _stacked_tables(
    predictions: Sequence[LoggedPrediction], salt: bytes | None
) -> tuple[list[pa.Table], list[LoggedPrediction]]:
    """Tables of the requests of common shapes, stacked per group; and the others."""
    groups: dict[tuple, list[LoggedPrediction]] = {}
    slow: list[LoggedPrediction] = []
    for p in predictions:
        key = _stack_key(p)
        if key is None:
            slow.append(p)
        else:
            groups.setdefault(key, []).append(p)
    tables = []
    for key, group in groups.items():
        try:
            tables.append(_stacked_table(key, group, salt))
        except (ValueError, TypeError, IndexError, pa.ArrowException):
            slow.extend(group)  # one request is odd: the slow path finds which
    return tables, slow


def _stack_key(p: LoggedPrediction) -> tuple | None:
    """What requests must share to be stacked as one table, or None for the slow path."""
    inputs, outputs, proba = p.inputs, p.outputs, p.probabilities
    if type(outputs) is not np.ndarray or outputs.ndim == 0 or (
            proba is not None and (type(proba) is not np.ndarray or proba.ndim != 2)):
        return None
    if type(inputs) is Matrix:
        values = inputs.values
        if type(values) is not np.ndarray or values.ndim != 2 or values.dtype.kind not in "biuf":
            return None
        shape: tuple = (id(inputs.names), values.dtype)  # a codec's one tuple: no hashing
    elif type(inputs) is dict and all(type(v) is list for v in inputs.values()):
        shape = (tuple(inputs),)  # the column names
    else:
        return None
    extra = p.extra
    hidden = (_names(extra.get("masked")), _names(extra.get("hashed"))) if extra else None
    return (shape, outputs.dtype, outputs.shape[1:],
            None if proba is None else (proba.dtype, proba.shape[1]), hidden)


def _names(names: Any) -> tuple[str, ...]:
    if not names:
        return ()
    return (names,) if isinstance(names, str) else tuple(names)


def _stacked_table(key: tuple, group: list[LoggedPrediction], salt: bytes | None) -> pa.Table:
    counts = np.fromiter((len(p.outputs) for p in group), dtype=np.int64, count=len(group))
    shape, hidden = key[0], key[-1]
    matrix, columns = None, {}
    if len(shape) == 2:  # a Matrix per request
        names = list(group[0].inputs.names)
        given = np.fromiter((len(p.inputs.values) for p in group), np.int64, len(group))
        matrix = _stack([p.inputs.values for p in group])
    else:  # column lists per request
        names = list(shape[0])
        first = names[0] if names else None
        given = np.fromiter((len(p.inputs[first]) if first else 0 for p in group), np.int64,
                            len(group))
        for name in names:
            merged = list(chain.from_iterable(p.inputs[name] for p in group))
            if len(merged) != given.sum():
                raise ValueError(f"input column {name} has rows missing")
            columns[f"input.{name}"] = partial(_objects, merged)
    if not np.array_equal(given, counts):
        raise ValueError("a request has more outputs than inputs, or fewer")
    outputs = _stack([p.outputs for p in group])
    stacked: dict[str, Callable[[], np.ndarray]] = {
        name: partial(_same, values) for name, values in _output_columns(outputs).items()}
    if key[3] is not None:
        proba = _stack([p.probabilities for p in group])
        if len(proba) != len(outputs):
            raise ValueError("a request has probabilities for more rows, or fewer")
        stacked.update((n, partial(_same, v)) for n, v in _proba_columns(proba).items())
    masked, hashed = hidden or ((), ())
    masked_names = {f"input.{c}" for c in names if c in {m.removeprefix("input.")
                                                        for m in masked}}
    hashed_names = {f"input.{c}" for c in names if c in {h.removeprefix("input.")
                                                        for h in hashed}} - masked_names
    return _table(group, counts, names, matrix, {**columns, **stacked},
                  (masked_names, hashed_names), salt)


def _objects(values: list[Any]) -> np.ndarray:
    return np.fromiter(values, dtype=object, count=len(values))


def _same(values: np.ndarray) -> np.ndarray:
    return values
