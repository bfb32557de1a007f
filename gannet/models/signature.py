"""Signatures: what a model takes and gives, checked cheaply on every predict.

A signature is data (it lives in ``gannet-model.yaml``), so a server, a registry gate or a
monitor can know a model's inputs without loading the model. ``Signature.check_input`` is
on the serving hot path: for a DataFrame that already has the right columns in the right
order with the right dtypes it compares two short lists and returns the same object
(microseconds, no row is touched). Only input that needs fixing - records, reordered
columns, an int column where the model wants float - pays for conversion, and input that
cannot be fixed gets an error naming the column and what was expected.

Casting rules: int widens to float, float narrows or widens to another float, int to int
when the values fit; float to int is refused (it would drop fractions), bool stays bool,
text stays text, and an object column is converted when every value converts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from gannet.core.errors import InvalidArgument, InvalidInput

KINDS = ("dataframe", "tensor")
TEXT = frozenset({"string", "object", "category"})
SUPPORTED = (
    "a pandas DataFrame, a list of records (dicts), a dict of columns or a 2-D numpy array"
)


@dataclass(frozen=True)
class ColumnSpec:
    """One named column (dataframe schema) or one array (tensor schema); shape -1 = any."""

    name: str | None
    dtype: str
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.shape is not None and not isinstance(self.shape, tuple):
            object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))


@dataclass(frozen=True)
class Schema:
    columns: tuple[ColumnSpec, ...]
    kind: str

    def __post_init__(self) -> None:
        if not isinstance(self.columns, tuple):
            object.__setattr__(self, "columns", tuple(self.columns))
        if self.kind not in KINDS:
            raise InvalidArgument(f"schema kind {self.kind!r} is not one of {', '.join(KINDS)}")
        names = [c.name for c in self.columns]
        if self.kind == "dataframe" and (None in names or len(set(names)) != len(names)):
            raise InvalidArgument(f"a dataframe schema needs unique column names, got {names}")
        if self.kind == "tensor" and len(names) > 1 and None in names:
            raise InvalidArgument("a schema with several tensors must name each of them")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns if c.name is not None]

    @functools.cached_property
    def _expected(self) -> _Expected:
        """What a conforming DataFrame has, computed once per schema for the fast path."""
        import pandas as pd

        dtypes = [None if c.dtype in TEXT else numpy_dtype(c.dtype) for c in self.columns]
        return _Expected(pd.DataFrame, pd.Index(self.names), dtypes, None in dtypes)

    def to_dict(self) -> dict:
        columns = []
        for c in self.columns:
            entry: dict[str, Any] = {"dtype": c.dtype}
            if c.name is not None:
                entry = {"name": c.name, **entry}
            if c.shape is not None:
                entry["shape"] = list(c.shape)
            columns.append(entry)
        return {"kind": self.kind, "columns": columns}

    @classmethod
    def from_dict(cls, d: Any) -> Schema:
        if not isinstance(d, dict) or not isinstance(d.get("columns"), list):
            raise InvalidArgument(f"a schema is a mapping with 'kind' and 'columns', got {d!r}")
        columns = []
        for c in d["columns"]:
            if not isinstance(c, dict) or not isinstance(c.get("dtype"), str):
                raise InvalidArgument(f"a schema column needs a 'dtype' string, got {c!r}")
            shape = c.get("shape")
            columns.append(ColumnSpec(c.get("name"), c["dtype"], None if shape is None
                                      else tuple(int(s) for s in shape)))
        return cls(tuple(columns), str(d.get("kind", "dataframe")))


@dataclass(frozen=True)
class _Expected:
    frame_type: type
    index: Any  # the column names as a pandas Index
    dtypes: list[Any]  # numpy dtypes in column order; None for a text column (any text dtype)
    has_text: bool


@dataclass(frozen=True)
class Signature:
    inputs: Schema
    outputs: Schema | None = None

    def to_dict(self) -> dict:
        return {
            "inputs": self.inputs.to_dict(),
            "outputs": self.outputs.to_dict() if self.outputs else None,
        }

    @classmethod
    def from_dict(cls, d: Any) -> Signature:
        if not isinstance(d, dict) or "inputs" not in d:
            raise InvalidArgument(f"a signature is a mapping with 'inputs', got {d!r}")
        outputs = d.get("outputs")
        return cls(Schema.from_dict(d["inputs"]), Schema.from_dict(outputs) if outputs else None)

    def check_input(self, data: Any) -> Any:
        """``data`` as the model expects it (DataFrame or ndarray), or ``InvalidInput`` (an
        ``InvalidArgument``) naming the column and what was expected.

        Conforming DataFrames and arrays come back as the same object, untouched.
        """
        schema = self.inputs
        if schema.kind == "dataframe":
            expected = schema._expected
            if type(data) is expected.frame_type and _conforms(data, expected):
                return data  # the hot path: right columns, order and dtypes; no row touched
            return _check_frame(schema, data)
        return _check_tensors(schema, data)


# -- inference -------------------------------------------------------------------------------


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    """A signature from an example input (DataFrame, ndarray, records, dict of columns)."""
    outputs = None if model_output is None else _infer_schema(model_output)
    return Signature(_infer_schema(model_input), outputs)


def as_table(data: Any) -> Any:
    """Records and dicts of columns as a DataFrame, other lists as an array, the rest as is.

    What a model without a signature is given, and how input examples are read.
    """
    import numpy as np
    import pandas as pd

    if _is_tensor_dict(data):
        return data
    if isinstance(data, pd.Series):
        return data.to_numpy()
    if isinstance(data, (list, dict)):
        return _to_frame(data) if _is_tabular(data) else np.asarray(data)
    return data


def _is_tensor_dict(data: Any) -> bool:
    import numpy as np

    return isinstance(data, dict) and bool(data) and all(
        isinstance(v, np.ndarray) and v.ndim > 1 for v in data.values()
    )


def _infer_schema(data: Any) -> Schema:
    import numpy as np
    import pandas as pd

    if _is_tensor_dict(data):
        return Schema(tuple(_tensor_spec(str(k), v) for k, v in data.items()), "tensor")
    data = as_table(data)
    if isinstance(data, pd.DataFrame):
        columns = [ColumnSpec(str(n), dtype_name(data[n])) for n in data.columns]
        return Schema(tuple(columns), "dataframe")
    if isinstance(data, np.ndarray):
        return Schema((_tensor_spec(None, data),), "tensor")
    raise InvalidArgument(f"cannot infer a signature from {type(data).__name__}: pass {SUPPORTED}")


def _tensor_spec(name: str | None, array: Any) -> ColumnSpec:
    return ColumnSpec(name, dtype_name(array), (-1, *array.shape[1:]))


def dtype_name(values: Any) -> str:
    """The signature name of a column's or array's dtype ("float64", "string", ...)."""
    import numpy as np

    dtype = values.dtype
    name = str(getattr(dtype, "name", dtype))
    if name == "category":
        return "category"
    if name in ("str", "string") or getattr(dtype, "kind", "") in "US":
        return "string"
    if not isinstance(dtype, np.dtype):  # pandas nullable: Int64, Float64, boolean
        return "bool" if name == "boolean" else name.lower() if name[:1] in "IUF" else name
    if dtype.kind == "O":
        present = [v for v in np.asarray(values, dtype=object).ravel()[:1000] if v is not None]
        return "string" if present and all(isinstance(v, str) for v in present) else "object"
    return name


@functools.lru_cache(maxsize=256)
def numpy_dtype(name: str) -> Any:
    """The numpy dtype a signature dtype name stands for (text is held as object)."""
    import numpy as np

    try:
        return np.dtype("object" if name in TEXT else name)
    except TypeError:
        raise InvalidArgument(f"the signature names an unknown dtype {name!r}",
                              hint="use numpy names: float64, int64, bool, string, ...") from None


# -- checking dataframe input ----------------------------------------------------------------


def _check_frame(schema: Schema, data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if _conforms(data, schema._expected):
            return data
    elif isinstance(data, (list, dict)) and _is_tabular(data):
        data = _to_frame(data)
    else:
        data = _array_to_frame(schema, data)
    return _conform_frame(schema, data)


def _conforms(frame: Any, expected: _Expected) -> bool:
    """Whether ``frame`` needs no fixing: a few list comparisons, no Series built."""
    if not frame.columns.equals(expected.index):
        return False
    try:
        dtypes = frame._mgr.get_dtypes().tolist()  # pandas internals: 10x cheaper than .dtypes
    except AttributeError:
        dtypes = frame.dtypes.tolist()
    if dtypes == expected.dtypes:
        return True
    return expected.has_text and all(
        d == e if e is not None else getattr(d, "kind", "") in "OUS"
        for d, e in zip(dtypes, expected.dtypes, strict=True)
    )


def _is_tabular(data: list | dict) -> bool:
    return isinstance(data, dict) or (bool(data) and isinstance(data[0], dict))


def _to_frame(data: list | dict) -> Any:
    import pandas as pd

    if isinstance(data, dict) and all(_is_scalar(v) for v in data.values()):
        data = [data]  # one record given as a dict of scalars
    return pd.DataFrame(data)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, bytes)) or not hasattr(value, "__len__")


def _array_to_frame(schema: Schema, data: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(data, list):
        data = np.asarray(data, dtype=object if data and isinstance(data[0], list) else None)
    if not isinstance(data, np.ndarray):
        raise InvalidInput(f"input of type {type(data).__name__} is not supported: "
                              f"pass {SUPPORTED}")
    n = len(schema.columns)
    if data.ndim != 2 or data.shape[1] != n:
        order = ", ".join(f"{c.name} ({c.dtype})" for c in schema.columns)
        raise InvalidInput(f"input has shape {data.shape}, expected (-1, {n}): {n} columns "
                              f"in this order: {order}")
    return pd.DataFrame(data, columns=schema.names)


def _conform_frame(schema: Schema, frame: Any) -> Any:
    """Columns checked, cast and put in signature order; ``frame`` itself when all was fine."""
    import pandas as pd

    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    present = list(frame.columns)
    known = set(schema.names)
    missing = [c for c in schema.columns if c.name not in present]
    extra = [c for c in present if c not in known]
    if missing:
        what = _named("column", [f"'{c.name}' (expected {c.dtype})" for c in missing])
        also = f"; it has unexpected {_named('column', extra, quote=True)}" if extra else ""
        raise InvalidInput(f"input is missing {what}{also}")
    if extra:
        raise InvalidInput(f"input has unexpected {_named('column', extra, quote=True)} "
                              f"(the model takes: {', '.join(schema.names)})")
    if len(present) != len(known):
        raise InvalidInput(f"input has duplicate column names: {present}")
    columns, changed = {}, present != schema.names
    for spec in schema.columns:
        column = frame[spec.name]
        columns[spec.name] = _coerce(f"column '{spec.name}'", column, spec.dtype)
        changed = changed or columns[spec.name] is not column
    return pd.DataFrame(columns, index=frame.index) if changed else frame


def _named(word: str, items: list[str], quote: bool = False) -> str:
    """``column 'a'`` or ``columns 'a', 'b'``."""
    listed = ", ".join(f"'{i}'" if quote else i for i in items)
    return f"{word}{'' if len(items) == 1 else 's'} {listed}"


# -- checking tensor input -------------------------------------------------------------------


def _check_tensors(schema: Schema, data: Any) -> Any:
    if len(schema.columns) == 1 and schema.columns[0].name is None:
        return _check_tensor(schema.columns[0], data, "input")
    if not isinstance(data, dict):
        if len(schema.columns) == 1:
            return {schema.columns[0].name: _check_tensor(schema.columns[0], data, "input")}
        raise InvalidInput(f"this model takes several tensors: pass a dict of arrays named "
                              f"{', '.join(schema.names)}")
    missing = [str(c.name) for c in schema.columns if c.name not in data]
    if missing:
        raise InvalidInput(f"input is missing {_named('tensor', missing, quote=True)}")
    return {c.name: _check_tensor(c, data[c.name], f"tensor '{c.name}'") for c in schema.columns}


def _check_tensor(spec: ColumnSpec, data: Any, what: str) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    elif not isinstance(data, np.ndarray):
        try:
            data = np.asarray(data)
        except ValueError as exc:
            raise InvalidInput(f"{what} cannot be read as an array: {exc}") from exc
    if spec.shape is not None and not _shape_fits(data.shape, spec.shape):
        raise InvalidInput(f"{what} has shape {data.shape}, expected {spec.shape}")
    if data.dtype == numpy_dtype(spec.dtype):
        return data
    return np.asarray(_coerce(what, data, spec.dtype))


def _shape_fits(shape: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return len(shape) == len(expected) and all(
        e in (-1, s) for s, e in zip(shape, expected, strict=True))


# -- casting one column or array -------------------------------------------------------------


def _family(name: str) -> str:
    """"int" for int8..uint64, "float", "datetime", "text"; any other name stands alone."""
    if name in TEXT:
        return "text"
    prefixes = (("int", "int"), ("uint", "int"), ("float", "float"), ("datetime", "datetime"))
    return next((family for prefix, family in prefixes if name.startswith(prefix)), name)


def _coerce(label: str, values: Any, want: str) -> Any:
    """``values`` cast to ``want`` when that is safe, else InvalidInput naming ``label``."""
    import numpy as np

    if want == "object" or (want in TEXT and getattr(values.dtype, "kind", "") in "OUS"):
        return values  # text is taken as it is (no row is scanned on the hot path)
    got = dtype_name(values)
    wanted, have = _family(want), _family(got)
    if got == want and isinstance(values.dtype, np.dtype):
        return values
    if wanted == "text" or (wanted == "bool") != (have == "bool"):
        raise InvalidInput(f"{label} has dtype {got}, expected {want}")
    if wanted == "int" and have == "float":
        if bool(np.isnan(np.asarray(values, dtype=float)).any()):
            raise InvalidInput(f"{label} has missing values, expected {want}",
                                  hint="fill or drop the missing values first")
        raise InvalidInput(f"{label} has dtype {got}, expected {want} (float to int would "
                              "drop fractions)",
                              hint="round and cast it yourself if its values are whole numbers")
    numpy_int = have == "int" and isinstance(values.dtype, np.dtype)
    if wanted == "int" and numpy_int and not np.can_cast(values.dtype, want):
        array = np.asarray(values)
        info = np.iinfo(want)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise InvalidInput(f"{label} has values outside the range of {want}")
    if wanted in ("int", "float") and getattr(values.dtype, "kind", "") == "O":
        kinds = set(map(type, np.asarray(values, dtype=object).ravel().tolist()))
        refuse_nulls_and_booleans(label, kinds, want)
    return _cast(label, values, want)


def refuse_nulls_and_booleans(label: str, kinds: set[type], want: str) -> None:
    """InvalidInput naming ``label`` when values of these Python types would quietly turn
    into numbers of dtype ``want``: None (NaN) and, unless ``want`` is bool, True/False (1/0).

    JSON's null and true/false, say, in a number column: a cast would take them.
    """
    import numpy as np

    if type(None) in kinds:
        raise InvalidInput(f"{label} has missing values (null), expected {want}",
                           hint="send a value for every row")
    if want != "bool" and kinds & {bool, np.bool_}:
        raise InvalidInput(f"{label} has true/false values, expected {want}",
                           hint="send numbers (1 and 0 if that is what they mean)")


def _cast(label: str, values: Any, want: str) -> Any:
    import numpy as np
    import pandas as pd

    try:
        return values.astype(want)
    except (TypeError, ValueError, OverflowError):
        pass
    bad = None
    for value in np.asarray(values, dtype=object).ravel():
        try:
            np.asarray([value]).astype(want)
        except (TypeError, ValueError, OverflowError):
            bad = value
            break
    missing = bad is None or bool(pd.isna(bad))
    cause = "it has missing values" if missing else f"values like {bad!r} cannot be converted"
    raise InvalidInput(f"{label} has dtype {values.dtype}, expected {want} ({cause})")
