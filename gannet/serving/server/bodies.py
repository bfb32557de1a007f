"""A prediction request's body, read once: JSON or CSV, for ``/predict`` and ``/invocations``.

A ``Body`` holds the parsed JSON (``doc``, for the sticky key and the flags; None for CSV)
and ``decode``: how one model version's codec reads it. Decoding is per version because a
canary and its champion may have different signatures - a CSV is parsed with the dtypes
of the signature of the version that answers it.

CSV (``Content-Type: text/csv``) is what ``pandas.DataFrame.to_csv(index=False)`` writes:
a header of column names, then one line per row, UTF-8. Text columns stay text ("007" is
not 7); an empty cell or a word in a number column is refused naming the column and the
row, as a JSON null is (CSV has no other way to say "missing", and pandas would read it
as NaN). A tensor model reads the rows' values in column order.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from gannet.core.errors import BadRequest, InvalidInput, UnsupportedMediaType
from gannet.models.signature import TEXT, Signature
from gannet.serving.server.codecs import Codec, Payload
from gannet.serving.server.request import Call, media_type, read_body

__all__ = ["CSV", "Body", "csv_decoder", "read_prediction_body"]

CSV = "text/csv"
Decode = Callable[[Codec], Payload]


@dataclass(slots=True)
class Body:
    doc: Any  # the JSON document (None for a CSV body)
    decode: Decode


async def read_prediction_body(
    call: Call, limit: int, from_json: Callable[[Any], Decode], *, strict: bool = False
) -> Body:
    """The body of a prediction request: CSV when its Content-Type says so, else JSON read
    by ``from_json``. ``strict`` (``/invocations``, as MLflow): a Content-Type that is
    neither JSON nor CSV is refused (415) rather than read as JSON."""
    kind = media_type(call)
    charset = _charset(call.headers.get("content-type", ""))
    if charset not in ("", "utf-8", "utf8", "us-ascii"):
        raise UnsupportedMediaType(f"the request body is in charset {charset!r}",
                                   "send UTF-8 (charset=utf-8)")
    if strict and kind not in ("", "application/json", CSV):
        raise UnsupportedMediaType(
            f"this route reads application/json or text/csv, not {kind!r}",
            "send Content-Type: application/json (or text/csv)")
    body = await read_body(call, limit)
    if kind == CSV:
        return Body(None, csv_decoder(body))
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    return Body(doc, from_json(doc))


def _charset(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


def csv_decoder(body: bytes) -> Decode:
    """How a version's codec reads the CSV ``body`` (parsed with its signature's dtypes)."""

    def decode(codec: Codec) -> Payload:
        frame = csv_frame(body, codec.signature)
        if codec.signature is not None and codec.signature.inputs.kind == "tensor":
            return codec.from_rows(frame.to_numpy().tolist())
        columns = {str(name): values for name, values in frame.to_dict("list").items()}
        return codec.from_mapping(columns, "CSV")

    return decode


def csv_frame(body: bytes, signature: Signature | None) -> Any:
    """A CSV body as a DataFrame: text columns as text, number columns checked."""
    import pandas as pd

    text: set[str] = set()
    if signature is not None and signature.inputs.kind == "dataframe":
        text = {str(c.name) for c in signature.inputs.columns if c.dtype in TEXT}
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=dict.fromkeys(text, str),
                            keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise BadRequest("the CSV body is empty",
                         "send a header line of column names, then one line per row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise BadRequest(f"the request body is not valid CSV: {message}",
                         "send what pandas.DataFrame.to_csv(index=False) writes") from None
    if frame.empty:
        raise InvalidInput("the CSV body has a header but no rows",
                           "send one line per row after the header")
    for name in frame.columns:
        if str(name) not in text and frame[name].dtype.kind == "O":
            _refuse_words(str(name), frame[name].tolist())
    return frame


def _refuse_words(name: str, values: list) -> None:
    """A column pandas could not read as numbers because of empty cells: say which cell.
    (A column of words is left to the signature, which names the dtype it wants.)"""
    empty = [not (isinstance(v, str) and v.strip()) for v in values]
    if not any(empty) or not all(_is_number(v) for v, e in zip(values, empty, strict=True)
                                 if not e):
        return
    raise InvalidInput(f"CSV column '{name}' has an empty value in row {empty.index(True) + 1}",
                       "fill missing values on the client: CSV has no number for 'missing'")


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
