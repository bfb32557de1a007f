"""The wire format: Open Inference Protocol (KServe V2) tensors as JSON.

- V2 datatypes (BOOL, INT*/UINT*, FP16/32/64, BYTES) to numpy dtypes and back;
- ``v2_inputs`` / ``v2_array``: a V2 inference request's inputs as ndarrays of their shape
  and datatype (``data`` flat or nested, row-major), refusing values the datatype would
  change (1.5 as INT64, 300 as UINT8, text, null or true/false as a number) with
  ``InvalidInput`` (HTTP 422) naming the input;
- Triton's binary tensor extension (the ``Inference-Header-Content-Length`` header,
  ``binary_data*`` parameters) is refused with a 400 that names it (``BadRequest``),
  never ignored;
- ``json_value_types`` / ``hides_booleans``: what numpy does not say after reading JSON
  values as numbers - whether a true or false was among them (it reads them as 1 and 0);
- ``tensor_json`` / ``wire_array``: outputs as V2 tensors, numpy arrays handed to orjson
  as they are.

How a request's JSON becomes a model's input is ``codecs``; the OpenAPI document is
``openapi``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import chain
from typing import Any

import numpy as np

from gannet.core.errors import BadRequest, InvalidArgument, InvalidInput
from gannet.models.signature import TEXT, numpy_dtype, refuse_nulls_and_booleans

__all__ = [
    "BINARY_HEADER",
    "DATATYPES",
    "NUMERIC_KINDS",
    "binary_refused",
    "datatype_of",
    "dtype_of_datatype",
    "hides_booleans",
    "json_value_types",
    "refuse_binary_tensors",
    "tensor_json",
    "v2_array",
    "v2_inputs",
    "wire_array",
]

# V2 datatype -> numpy dtype (BYTES is text, held as object)
DATATYPES: dict[str, Any] = {
    "BOOL": np.dtype(bool), "UINT8": np.dtype("uint8"), "UINT16": np.dtype("uint16"),
    "UINT32": np.dtype("uint32"), "UINT64": np.dtype("uint64"), "INT8": np.dtype("int8"),
    "INT16": np.dtype("int16"), "INT32": np.dtype("int32"), "INT64": np.dtype("int64"),
    "FP16": np.dtype("float16"), "FP32": np.dtype("float32"), "FP64": np.dtype("float64"),
    "BYTES": np.dtype(object),
}
_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}
NUMERIC_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}  # target kind -> accepted kinds


def datatype_of(dtype: Any) -> str:
    """The V2 datatype of a numpy dtype or a signature dtype name (text and the rest: BYTES)."""
    if isinstance(dtype, str):
        if dtype in TEXT:
            return "BYTES"
        try:
            dtype = numpy_dtype(dtype)
        except InvalidArgument:
            return "BYTES"
    return _BY_DTYPE.get(np.dtype(dtype), "BYTES")


def dtype_of_datatype(datatype: Any, what: str) -> Any:
    try:
        return DATATYPES[datatype]
    except (KeyError, TypeError):
        raise InvalidInput(
            f"{what} has datatype {datatype!r}, which is not one of "
            f"{', '.join(DATATYPES)}") from None


# -- reading V2 tensors ----------------------------------------------------------------------

BINARY_HEADER = "inference-header-content-length"  # Triton's binary tensor extension
_BINARY_HINT = ("this server does not implement Triton's binary tensor extension: send each "
                "input's values as JSON 'data' (tritonclient: set_data_from_numpy(..., "
                "binary_data=False) and InferRequestedOutput(..., binary_data=False))")


def binary_refused(where: str) -> BadRequest:
    """The 400 for a request that uses Triton's binary tensor extension."""
    return BadRequest(f"{where} asks for Triton's binary tensor extension, which this "
                      "server does not support", _BINARY_HINT)


def refuse_binary_tensors(doc: dict) -> None:
    """Refuse (400) a V2 request whose parameters ask for binary tensors - never ignore
    them: the caller would read JSON where it expects bytes, or the other way round."""
    if _asks_binary(doc.get("parameters"), "binary_data_output"):
        raise binary_refused("the request's parameter 'binary_data_output'")
    for key, flag in (("inputs", "binary_data_size"), ("outputs", "binary_data")):
        items = doc.get(key)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and _asks_binary(item.get("parameters"), flag):
                raise binary_refused(f"{key[:-1]} '{item.get('name')}' (parameter '{flag}')")


def _asks_binary(parameters: Any, flag: str) -> bool:
    if not isinstance(parameters, dict) or flag not in parameters:
        return False
    return flag == "binary_data_size" or parameters[flag] not in (False, None, 0)


def v2_inputs(doc: Any) -> list[Mapping[str, Any]]:
    """The ``inputs`` of a V2 inference request, each with a name, shape, datatype and data."""
    if not isinstance(doc, dict):
        raise InvalidInput("a V2 inference request is a JSON object with 'inputs'")
    refuse_binary_tensors(doc)
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput("a V2 inference request needs a non-empty 'inputs' list")
    for i, item in enumerate(inputs):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInput(f"inputs[{i}] needs a 'name'")
        for key in ("shape", "datatype", "data"):
            if key not in item:
                hint = "send the input's values as JSON 'data'" if key == "data" else None
                raise InvalidInput(f"input '{item['name']}' has no '{key}'", hint=hint)
    return inputs


def v2_array(item: Mapping[str, Any]) -> Any:
    """One V2 input as an ndarray of its shape and datatype (flat or nested ``data``)."""
    name = item["name"]
    what = f"input '{name}'"
    dtype = dtype_of_datatype(item["datatype"], what)
    shape = item["shape"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InvalidInput(f"{what} has shape {shape!r}: a list of non-negative integers")
    data = item["data"]
    if not isinstance(data, list):
        data = [data]
    array = _typed(data, dtype, f"{what} ({item['datatype']})")
    if dtype.kind == "O" and array.ndim > 1 and array.shape != tuple(shape):
        array = array.ravel()
    if array.size != math.prod(shape):
        raise InvalidInput(
            f"{what} has {array.size} values but its shape {shape} needs {math.prod(shape)}")
    return array.reshape(shape)


def _typed(data: list, dtype: Any, what: str) -> Any:
    """JSON values as ``dtype``, refusing what would change them (1.5 as an int, 300 as uint8,
    text, null or true/false as a number)."""
    if dtype.kind == "O":
        return np.array(data, dtype=object)
    try:
        array = np.array(data)
    except ValueError as exc:
        raise InvalidInput(f"{what} has ragged data: {exc}") from None
    if array.size == 0:
        return array.astype(dtype)
    kind = array.dtype.kind
    if kind == "O" or (array.size > 1 and kind in "iuf" and dtype.kind != "b" and
                       hides_booleans(data, array)):  # (all true/false: refused below)
        refuse_nulls_and_booleans(what, json_value_types(data), dtype.name)
    if array.dtype.kind not in NUMERIC_KINDS[dtype.kind]:
        sample = array.ravel()[0]
        sample = sample.item() if isinstance(sample, np.generic) else sample  # (or an object)
        raise InvalidInput(f"{what} has values like {sample!r}, which are not {dtype.name}")
    if dtype.kind in "iu" and not np.can_cast(array.dtype, dtype):
        info = np.iinfo(dtype)
        if array.min() < info.min or array.max() > info.max:
            raise InvalidInput(f"{what} has values outside the range of {dtype.name}")
    return array.astype(dtype, copy=False)


def json_value_types(data: Any) -> set[type]:
    """The types of the values in JSON lists, nested or not (lists and tuples are opened)."""
    kinds = set(map(type, data))
    while kinds & _SEQUENCES:
        data = [v for item in data for v in (item if type(item) in _SEQUENCES else (item,))]
        kinds = set(map(type, data))
    return kinds


def hides_booleans(values: Any, array: Any) -> bool:
    """Whether JSON ``values`` that numpy read as ``array`` (of numbers or booleans) had a
    true or false among them: numpy reads ``[1.5, true]`` as ``[1.5, 1.0]``."""
    if array.dtype.kind == "b":
        return True
    if array.size < 2:
        return False  # a lone true would have made a bool array
    if array.size > _SCAN_AT_ONCE and not ((array == 0) | (array == 1)).any():
        return False  # a true or false would have become a 1 or a 0
    if array.ndim == 1:
        kinds = set(map(type, values))
    elif array.ndim == 2:  # rows (lists or tuples) of values
        kinds = set(map(type, chain.from_iterable(values)))
    else:
        kinds = json_value_types(values)
    return not kinds <= _NUMBERS


_SEQUENCES = frozenset({list, tuple})
_NUMBERS = frozenset({int, float})
_SCAN_AT_ONCE = 64  # up to this many values, looking at each is cheaper than numpy's test


# -- writing V2 tensors ----------------------------------------------------------------------


def tensor_json(name: str, values: Any) -> dict[str, Any]:
    """An output as a V2 tensor: flat row-major ``data`` with the full shape."""
    array = np.asarray(values)
    if array.dtype.kind in "OUSMm":
        datatype, data = "BYTES", [_text(v) for v in array.ravel().tolist()]
    else:
        datatype, data = datatype_of(array.dtype), wire_array(array.ravel())
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}


def _text(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def wire_array(values: Any) -> Any:
    """What orjson (OPT_SERIALIZE_NUMPY) writes fastest: the array itself when it can."""
    array = values if isinstance(values, np.ndarray) else np.asarray(values)
    if array.dtype.kind in "biuf" and array.dtype.itemsize <= 8 and array.dtype != np.float16:
        return array if array.flags.c_contiguous else np.ascontiguousarray(array)
    return [_text(v) for v in array.tolist()] if array.ndim == 1 else array.tolist()
