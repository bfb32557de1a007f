"""From a request's JSON to a model's input: one ``Codec`` per model version.

A codec is made once per model version from its signature. It turns one request's JSON
into a ``Payload`` (that request's rows, checked), joins the payloads of a micro-batch into
the one input the model is given, and describes the inputs for V2 metadata.

- ``MatrixCodec``: a dataframe signature whose columns all share one numeric (or bool)
  dtype - the common tabular model. Each request becomes a 2-D ndarray (no pandas on the
  request path); a batch becomes ONE DataFrame built from the stacked matrix, which the
  signature's fast path takes as it is.
- ``FrameCodec``: any other dataframe signature (mixed dtypes, text) or none. A request
  becomes a dict of column lists; a batch becomes one DataFrame the signature casts.
- ``TensorCodec``: a tensor signature (one array, or several named ones); plain numpy.

``/predict`` bodies: a list of records, ``{"records": [...]}``, ``{"columns": {...}}`` or
``{"inputs": {...}}``, MLflow's ``dataframe_split`` / ``dataframe_records``, or rows (lists
in signature column order). Whatever the signature refuses raises its own
``InvalidArgument``, whose message names the column. A JSON null or true/false where the
signature wants numbers is refused too (numpy and pandas would quietly read them as NaN
and 1/0): the fast paths notice them cheaply and leave them to a slow path that keeps the
values as Python objects, so the signature sees them and names the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

from gannet.core.errors import InvalidArgument, InvalidInput
from gannet.models.signature import TEXT, Schema, Signature, numpy_dtype, refuse_nulls_and_booleans
from gannet.serving.log.types import Matrix
from gannet.serving.server.protocol import (
    NUMERIC_KINDS,
    datatype_of,
    hides_booleans,
    json_value_types,
    v2_array,
)

__all__ = ["Codec", "FrameCodec", "MatrixCodec", "Payload", "TensorCodec", "codec_for"]


@dataclass(slots=True)
class Payload:
    """One request's rows, checked against the signature; ``data`` is the codec's form."""

    rows: int
    data: Any


class Codec:
    """Decode requests for one signature; merge a batch; describe inputs for metadata."""

    signature: Signature | None

    def from_predict(self, doc: Any) -> Payload:
        """A ``/predict`` body: records, ``{"records"}``, ``{"columns"}``/``{"inputs"}``,
        MLflow's ``dataframe_split``/``dataframe_records``, or rows (lists) in column order."""
        if isinstance(doc, dict):
            for key in ("records", "dataframe_records", "instances"):
                if key in doc:
                    return self.from_list(doc[key], key)
            if "dataframe_split" in doc:
                return self._from_split(doc["dataframe_split"])
            for key in ("columns", "inputs"):
                if key in doc:
                    return self.from_mapping(doc[key], key)
            raise InvalidInput(
                "a /predict body is a list of records, or an object with 'records', "
                "'columns', 'inputs' or 'dataframe_split'")
        if isinstance(doc, list):
            return self.from_list(doc, "body")
        raise InvalidInput("a /predict body is a JSON list or object")

    def from_list(self, items: Any, what: str) -> Payload:
        """A list of records (objects) or of rows (lists in column order)."""
        if not isinstance(items, list) or not items:
            raise InvalidInput(f"'{what}' must be a non-empty list")
        if all(isinstance(r, dict) for r in items):
            return self.from_records(items)
        return self.from_rows(items)

    def _from_split(self, split: Any) -> Payload:
        if not isinstance(split, dict) or not isinstance(split.get("data"), list):
            raise InvalidInput("'dataframe_split' needs 'columns' and 'data'")
        columns = split.get("columns")
        if columns is None:
            return self.from_rows(split["data"])
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InvalidInput("'dataframe_split.columns' must be a list of names")
        try:
            return self.from_records([dict(zip(columns, row, strict=True))
                                      for row in split["data"]])
        except (TypeError, ValueError):
            raise InvalidInput(
                f"every row of 'dataframe_split.data' needs {len(columns)} values") from None

    def from_records(self, records: list[dict]) -> Payload:
        raise NotImplementedError

    def from_rows(self, rows: list) -> Payload:
        raise NotImplementedError

    def from_mapping(self, columns: Any, what: str) -> Payload:
        raise NotImplementedError

    def from_v2(self, inputs: list[Mapping[str, Any]]) -> Payload:
        raise NotImplementedError

    def prepare(self, payloads: Sequence[Payload]) -> None:
        """Once per micro-batch, before ``merge``: what the batch needs from elsewhere
        (a deployment's features); a failure here fails every request of the batch."""

    def merge(self, payloads: Sequence[Payload]) -> Any:
        """The model's input for a whole batch (built once)."""
        raise NotImplementedError

    def logged(self, payload: Payload) -> Any:
        """One request's rows as the inference log takes them, in the cheapest form that
        names the columns (never a DataFrame per request: the log stacks them later)."""
        return self.merge([payload])

    @property
    def request_signature(self) -> Signature | None:
        """What a request sends, for the OpenAPI document (the model's signature here)."""
        return self.signature

    def metadata_inputs(self) -> list[dict[str, Any]]:
        if self.signature is None:
            return []
        return _tensors_metadata(self.signature.inputs)

    def example(self) -> Payload:
        """A synthetic request from the signature (for warming a model up)."""
        raise NotImplementedError


def _tensors_metadata(schema: Schema) -> list[dict[str, Any]]:
    if schema.kind == "dataframe":
        return [{"name": c.name, "datatype": datatype_of(c.dtype), "shape": [-1]}
                for c in schema.columns]
    return [{"name": c.name or "input-0", "datatype": datatype_of(c.dtype),
             "shape": list(c.shape) if c.shape else [-1]} for c in schema.columns]


def _check(signature: Signature | None, data: Any) -> Any:
    """The signature's own verdict on ``data`` (its messages name the column)."""
    if signature is None:
        from gannet.models.signature import as_table

        return as_table(data)
    return signature.check_input(data)


def _zero(dtype: str) -> Any:
    if dtype in TEXT:
        return ""
    kind = numpy_dtype(dtype).kind
    return {"b": False, "i": 0, "u": 0, "f": 0.0}.get(kind, 0)


class MatrixCodec(Codec):
    """Dataframe signature, every column one numeric dtype: requests as 2-D ndarrays."""

    signature: Signature

    def __init__(self, signature: Signature) -> None:
        import pandas as pd

        self.signature = signature
        schema = signature.inputs
        self.names = schema.names
        self.positions = {n: i for i, n in enumerate(self.names)}
        self.column_names = tuple(str(n) for n in self.names)
        self.dtype = numpy_dtype(schema.columns[0].dtype)
        self.accepted = NUMERIC_KINDS.get(self.dtype.kind, self.dtype.kind)
        self.numbers = self.dtype.kind in "iuf"  # where true/false must not pass as 1/0
        self.index = pd.Index(self.names)
        self.row_of = itemgetter(*self.names) if len(self.names) > 1 else \
            (lambda record, name=self.names[0]: (record[name],))  # a record's values in order

    def _matrix(self, values: Any, *, by_column: bool = False) -> Any:
        """``values`` (a list of rows, or of columns) as a (rows x columns) array of the
        model's dtype, or None when only a slow look at the values can tell (or refuse)."""
        try:
            array = np.array(values)
        except (TypeError, ValueError):
            return None
        if by_column and array.ndim == 2:
            array = array.T
        if array.ndim != 2 or array.shape[1] != len(self.names) or array.dtype.kind not in \
                self.accepted or (self.numbers and hides_booleans(values, array)):
            return None  # (a null made it an object array: not accepted either)
        return np.ascontiguousarray(array, dtype=self.dtype)

    def _slow(self, data: Any) -> Payload:
        """``data`` (records' columns, or a dict of columns) through the signature, as
        Python objects: a null stays None and a true stays True for it to refuse."""
        import pandas as pd

        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data, dtype=object)
        checked = _check(self.signature, frame)
        return Payload(len(checked), checked.to_numpy(dtype=self.dtype))

    def from_records(self, records: list[dict]) -> Payload:
        width = len(self.names)
        if all(len(r) == width for r in records):
            try:
                rows = list(map(self.row_of, records))
            except KeyError:
                pass
            else:
                array = self._matrix(rows)
                if array is not None:
                    return Payload(len(array), array)
        return self._slow(_record_columns(records))

    def from_rows(self, rows: list) -> Payload:
        array = self._matrix(rows)
        if array is not None:
            return Payload(len(array), array)
        return self._slow(_check(self.signature, _rows_array(rows)))

    def from_mapping(self, columns: Any, what: str) -> Payload:
        values, _ = _column_lists(columns, what)
        if values.keys() == self.positions.keys():
            array = self._matrix([values[n] for n in self.names], by_column=True)
            if array is not None:
                return Payload(len(array), array)
        return self._slow(values)

    def from_v2(self, inputs: list[Mapping[str, Any]]) -> Payload:
        if len(inputs) == 1 and inputs[0]["name"] not in self.positions:
            array = v2_array(inputs[0])  # one 2-D tensor, columns in signature order
            if array.ndim == 2 and array.shape[1] == len(self.names) and \
                    array.dtype.kind in self.accepted:
                return Payload(len(array), array.astype(self.dtype, copy=False))
            return self._slow(_check(self.signature, _rows_array(array)))
        columns = {item["name"]: _column(v2_array(item), item["name"]) for item in inputs}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InvalidInput(f"the inputs have different numbers of rows: "
                                  f"{ {k: len(v) for k, v in columns.items()} }")
        if columns.keys() == self.positions.keys() and all(
                v.dtype.kind in self.accepted for v in columns.values()):
            array = np.column_stack([columns[n] for n in self.names]).astype(
                self.dtype, copy=False)
            return Payload(len(array), array)
        return self._slow(columns)

    def merge(self, payloads: Sequence[Payload]) -> Any:
        import pandas as pd

        arrays = [p.data for p in payloads]
        array = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        return pd.DataFrame(array, columns=self.index, copy=False)

    def logged(self, payload: Payload) -> Matrix:
        return Matrix(self.column_names, payload.data)

    def example(self) -> Payload:
        zero = _zero(self.signature.inputs.columns[0].dtype)
        return self.from_rows([[zero] * len(self.names)])


def _record_columns(records: list[dict]) -> dict[str, list]:
    """Records as columns; a column some records lack is refused (never filled with NaN)."""
    keys = list(dict.fromkeys(k for r in records for k in r))
    if any(len(r) != len(keys) for r in records):
        missing = next(k for r in records for k in keys if k not in r)
        raise InvalidInput(f"input is missing column '{missing}' in some records")
    return {k: [r[k] for r in records] for k in keys}


def _column_lists(columns: Any, what: str) -> tuple[dict[str, list], int]:
    """``{"name": [values]}`` checked: a mapping of lists of one length (scalars: 1 row)."""
    if not isinstance(columns, dict) or not columns:
        raise InvalidInput(f"'{what}' must map column names to lists of values")
    values = {str(k): v if isinstance(v, list) else [v] for k, v in columns.items()}
    lengths = {len(v) for v in values.values()}
    if len(lengths) > 1:
        counts = ", ".join(f"{k}: {len(v)}" for k, v in values.items())
        raise InvalidInput(f"the columns have different lengths ({counts})")
    return values, lengths.pop()


def _rows_array(rows: Any) -> Any:
    if isinstance(rows, np.ndarray):
        return rows
    try:
        return np.array(rows, dtype=object)
    except ValueError:
        raise InvalidInput("the rows have different lengths") from None


def _column(array: Any, name: str) -> Any:
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    if array.ndim != 1:
        raise InvalidInput(f"input '{name}' has shape {list(array.shape)}; a column of a "
                              "dataframe model is [rows] or [rows, 1]")
    return array


class FrameCodec(Codec):
    """Any dataframe signature (or none): requests as dicts of column lists."""

    def __init__(self, signature: Signature | None) -> None:
        self.signature = signature
        self.names = signature.inputs.names if signature is not None else None
        columns = signature.inputs.columns if signature is not None else ()
        self.numbers = {str(c.name): c.dtype for c in columns if _is_number(c.dtype)}

    def _columns(self, columns: dict[str, Any], rows: int) -> Payload:
        if self.names is not None and set(columns) != set(self.names):
            _check(self.signature, _frame(columns))  # raises, naming the columns
        for name, dtype in self.numbers.items():  # pandas would read null as NaN, true as 1
            refuse_nulls_and_booleans(f"column '{name}'", set(map(type, columns[name])), dtype)
        return Payload(rows, columns)

    def from_records(self, records: list[dict]) -> Payload:
        return self._columns(_record_columns(records), len(records))

    def from_rows(self, rows: list) -> Payload:
        if self.names is None:
            raise InvalidInput("this model has no signature: send records (objects)")
        if not all(isinstance(r, list) and len(r) == len(self.names) for r in rows):
            raise InvalidInput(f"each row needs {len(self.names)} values, in this order: "
                                  f"{', '.join(self.names)}")
        return self._columns({n: [r[i] for r in rows] for i, n in enumerate(self.names)},
                             len(rows))

    def from_mapping(self, columns: Any, what: str) -> Payload:
        values, rows = _column_lists(columns, what)
        return self._columns(values, rows)

    def from_v2(self, inputs: list[Mapping[str, Any]]) -> Payload:
        return self._columns(*v2_columns(inputs))

    def merge(self, payloads: Sequence[Payload]) -> Any:
        if len(payloads) == 1:
            return _frame(payloads[0].data)
        keys = payloads[0].data.keys()
        return _frame({k: [v for p in payloads for v in p.data[k]] for k in keys})

    def logged(self, payload: Payload) -> Any:
        return payload.data  # column -> list of values

    def example(self) -> Payload:
        if self.signature is None:
            raise InvalidInput("a model without a signature has no synthetic example")
        return self.from_records([{c.name: _zero(c.dtype)
                                   for c in self.signature.inputs.columns}])


def _is_number(dtype: str) -> bool:
    """Whether a signature dtype is a number (int, uint or float)."""
    if dtype in TEXT:
        return False
    try:
        return bool(numpy_dtype(dtype).kind in "iuf")
    except InvalidArgument:  # an unknown dtype: the signature says so when it checks
        return False


def _frame(columns: dict[str, list]) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


class TensorCodec(Codec):
    """A tensor signature: one array (any name on the wire) or several named arrays."""

    signature: Signature

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        specs = signature.inputs.columns
        self.single = len(specs) == 1
        self.names = [c.name for c in specs]

    def _payload(self, data: Any) -> Payload:
        if self.single and isinstance(data, list):  # JSON: null and true would pass
            spec = self.signature.inputs.columns[0]
            if _is_number(spec.dtype):
                refuse_nulls_and_booleans("input", json_value_types(data), spec.dtype)
        checked = _check(self.signature, data)
        first = next(iter(checked.values())) if isinstance(checked, dict) else checked
        if getattr(first, "ndim", 0) == 0:
            raise InvalidInput("the input needs a first (rows) dimension")
        if isinstance(checked, dict) and len({len(v) for v in checked.values()}) > 1:
            raise InvalidInput("the tensors have different numbers of rows")
        return Payload(len(first), checked)

    def from_records(self, records: list[dict]) -> Payload:
        if self.single:
            raise InvalidInput("this model takes a tensor: send rows (lists of numbers) "
                                  "or {'inputs': [...]}, not records")
        return self.from_mapping({n: [r.get(n) for r in records] for n in self.names}, "records")

    def from_rows(self, rows: list) -> Payload:
        if not self.single:
            return self.from_mapping(rows, "inputs")
        return self._payload(rows)

    def from_mapping(self, columns: Any, what: str) -> Payload:
        if isinstance(columns, list) and self.single:
            return self.from_rows(columns)
        if not isinstance(columns, dict):
            raise InvalidInput(f"'{what}' must map tensor names to arrays")
        dtypes = {str(c.name): c.dtype for c in self.signature.inputs.columns}
        for name, values in columns.items():
            dtype = dtypes.get(name, "object")
            if isinstance(values, list) and _is_number(dtype):
                refuse_nulls_and_booleans(f"tensor '{name}'", json_value_types(values), dtype)
        return self._payload({k: np.asarray(v) for k, v in columns.items()})

    def from_v2(self, inputs: list[Mapping[str, Any]]) -> Payload:
        if self.single and len(inputs) == 1:
            return self._payload(v2_array(inputs[0]))
        return self._payload({item["name"]: v2_array(item) for item in inputs})

    def merge(self, payloads: Sequence[Payload]) -> Any:
        if len(payloads) == 1:
            return payloads[0].data
        if isinstance(payloads[0].data, dict):
            return {k: np.concatenate([p.data[k] for p in payloads]) for k in payloads[0].data}
        return np.concatenate([p.data for p in payloads])

    def logged(self, payload: Payload) -> Any:
        return payload.data

    def example(self) -> Payload:
        arrays = {}
        for spec in self.signature.inputs.columns:
            shape = tuple(1 if d == -1 else d for d in (spec.shape or (-1,)))
            arrays[spec.name] = np.full(shape, _zero(spec.dtype), dtype=numpy_dtype(spec.dtype))
        return self._payload(arrays[self.names[0]] if self.single else arrays)


def codec_for(signature: Signature | None) -> Codec:
    """The fastest codec that reads requests for ``signature`` exactly."""
    if signature is None:
        return FrameCodec(None)
    schema = signature.inputs
    if schema.kind == "tensor":
        return TensorCodec(signature)
    dtypes = {c.dtype for c in schema.columns}
    if len(dtypes) == 1:
        dtype = dtypes.pop()
        if dtype not in TEXT and numpy_dtype(dtype).kind in "biuf":
            return MatrixCodec(signature)
    return FrameCodec(signature)


def v2_columns(inputs: list[Mapping[str, Any]]) -> tuple[dict[str, list[Any]], int]:
    """V2 named inputs as columns of a table (name -> values), and its number of rows."""
    columns = {item["name"]: _column(v2_array(item), item["name"]).tolist() for item in inputs}
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InvalidInput("the inputs have different numbers of rows")
    return columns, lengths.pop()
