"""Profiles of tables: schema, row count and, per column, nulls, distinct values, range,
mean, spread, quantiles, a histogram and the most frequent values.

A profile is computed by DuckDB (one aggregate pass over every column, then one grouped
pass per numeric column for its histogram and per categorical column for its top values),
never by a Python loop over rows. Up to ``EXACT_ROWS`` rows the distinct counts and
quantiles are exact; above, DuckDB's approximations are used (HyperLogLog for distinct
counts, t-digest for quantiles) and each column says so (``approximate``).

``Profile.to_dict()`` is a stable JSON document (``format: gannet.profile/1``) with the
histogram edges and counts and the category counts, so monitoring can use a stored profile
as the reference distribution; ``Profile.from_dict`` reads it back. A text column with
more than ``MAX_CATEGORIES`` distinct values (ids, e-mail addresses) is not a category:
it gets no top values (all its values count as ``other_count``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.stats.table_repository import (
    VIEW,
    TableSource,
    open_table,
    plain_value,
    quote_identifier,
)

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = "gannet.profile/1"
EXACT_ROWS = 1_000_000  # above this, distinct counts and quantiles are approximate
BINS = 20
TOP = 20
MAX_CATEGORIES = 100_000  # a text column with more distinct values (ids, e-mails) has no top
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass
class Histogram:
    """``len(edges) == len(counts) + 1``; bin i holds edges[i] <= x < edges[i+1] (the last
    bin includes its right edge). NaN and infinities are left out."""

    edges: list[float]
    counts: list[int]


@dataclass
class Category:
    value: Any
    count: int


@dataclass
class ColumnProfile:
    name: str
    type: str  # the Arrow type: int64, double, string, timestamp[us], ...
    kind: str  # numeric | categorical | boolean | temporal | other
    count: int  # values that are not null
    nulls: int
    distinct: int | None = None
    approximate: bool = False  # distinct and quantiles estimated (a large table)
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)  # "0.5" -> median
    histogram: Histogram | None = None
    top: list[Category] = field(default_factory=list)  # most frequent first
    other_count: int = 0  # values not among ``top``

    @property
    def null_fraction(self) -> float:
        total = self.count + self.nulls
        return self.nulls / total if total else 0.0


@dataclass
class Profile:
    source: str
    rows: int
    columns: list[ColumnProfile]

    @property
    def schema(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    def column(self, name: str) -> ColumnProfile:
        for found in self.columns:
            if found.name == name:
                return found
        raise InvalidArgument(
            f"the profile of {self.source} has no column {name!r}",
            f"the columns are: {', '.join(c.name for c in self.columns)}",
        )

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        if data.get("format") != FORMAT:
            raise InvalidArgument(
                f"not a profile document (format {data.get('format')!r}, expected {FORMAT!r})",
                "pass what Profile.to_dict() wrote",
            )
        columns = []
        for raw in data["columns"]:
            raw = dict(raw)
            hist = raw.pop("histogram", None)
            top = raw.pop("top", [])
            columns.append(ColumnProfile(
                **raw,
                histogram=Histogram(**hist) if hist else None,
                top=[Category(**c) for c in top],
            ))
        return cls(source=data["source"], rows=int(data["rows"]), columns=columns)


def profile(table_or_path: Any) -> Profile:
    """The profile of a Parquet file or folder, a CSV file, an Arrow table or a DataFrame."""
    with open_table(table_or_path) as source:
        return profile_source(source)


def profile_source(source: TableSource) -> Profile:
    fields = list(source.schema)
    rows = int(source.fetch_arrow(f"SELECT count(*) AS n FROM {VIEW}").column(0)[0].as_py())
    exact = rows <= EXACT_ROWS
    stats = _aggregates(source, fields, exact)
    columns = []
    for i, f in enumerate(fields):
        kind = column_kind(f.type)
        got = {k.split("__", 1)[1]: v for k, v in stats.items() if k.startswith(f"c{i}__")}
        column = ColumnProfile(
            name=f.name, type=str(f.type), kind=kind,
            count=int(got["count"]), nulls=rows - int(got["count"]),
            distinct=_int(got.get("distinct")), approximate=not exact and "distinct" in got,
            min=plain_value(got.get("min")), max=plain_value(got.get("max")),
        )
        if kind == "numeric":
            _numeric(source, column, got)
        if kind in ("categorical", "boolean") and (column.distinct or 0) <= MAX_CATEGORIES:
            column.top, column.other_count = _top(source, f.name, column.count)
        elif kind == "categorical":
            column.other_count = column.count
        columns.append(column)
    return Profile(source=source.label, rows=rows, columns=columns)


def column_kind(arrow_type: pa.DataType) -> str:
    import pyarrow.types as t

    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "numeric"
    if t.is_temporal(arrow_type):
        return "temporal"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_dictionary(arrow_type):
        return "categorical"
    return "other"


def _aggregates(source: TableSource, fields: list[pa.Field], exact: bool) -> dict[str, Any]:
    """Every column's counts, range and moments in one pass over the table."""
    parts = []
    for i, f in enumerate(fields):
        col, kind = quote_identifier(f.name), column_kind(f.type)
        parts.append(f"count({col}) AS c{i}__count")
        if kind == "other":
            continue
        distinct = f"count(DISTINCT {col})" if exact else f"approx_count_distinct({col})"
        parts.append(f"{distinct} AS c{i}__distinct")
        if kind != "boolean":
            parts += [f"min({col}) AS c{i}__min", f"max({col}) AS c{i}__max"]
        if kind == "numeric":
            x = f"{col}::DOUBLE"
            finite = f"FILTER (WHERE isfinite({x}))"
            qs = ", ".join(str(q) for q in QUANTILES)
            quantile = f"quantile_cont({x}, [{qs}])" if exact else f"approx_quantile({x}, [{qs}])"
            parts += [
                f"avg({x}) {finite} AS c{i}__mean", f"stddev_samp({x}) {finite} AS c{i}__std",
                f"min({x}) {finite} AS c{i}__lo", f"max({x}) {finite} AS c{i}__hi",
                f"{quantile} {finite} AS c{i}__quantiles",
            ]
    if not parts:
        return {}
    result = source.fetch_arrow(f"SELECT {', '.join(parts)} FROM {VIEW}")
    return {name: result.column(name)[0].as_py() for name in result.column_names}


def _numeric(source: TableSource, column: ColumnProfile, got: dict[str, Any]) -> None:
    column.mean, column.std = _float(got.get("mean")), _float(got.get("std"))
    values = got.get("quantiles") or []
    column.quantiles = {str(q): float(v) for q, v in zip(QUANTILES, values, strict=False)
                        if v is not None}
    lo, hi = _float(got.get("lo")), _float(got.get("hi"))
    if lo is not None and hi is not None:
        column.histogram = histogram(source, column.name, lo, hi)


def histogram(source: TableSource, name: str, lo: float, hi: float, bins: int = BINS) -> Histogram:
    """Equal-width bins from ``lo`` to ``hi`` over the finite values of column ``name``."""
    if hi <= lo:
        bins = 1
    width = (hi - lo) / bins if hi > lo else 1.0
    x = f"{quote_identifier(name)}::DOUBLE"
    rows = source.fetch_arrow(
        f"SELECT least(greatest(floor(({x} - {lo!r}) / {width!r}), 0), {bins - 1})::INTEGER "
        f"AS bin, count(*) AS n FROM {VIEW} WHERE isfinite({x}) GROUP BY bin"
    ).to_pydict()
    counts = [0] * bins
    for b, n in zip(rows["bin"], rows["n"], strict=True):
        counts[b] = int(n)
    edges = [lo + width * i for i in range(bins)] + [hi if hi > lo else lo + width]
    return Histogram(edges=edges, counts=counts)


def _top(source: TableSource, name: str, count: int) -> tuple[list[Category], int]:
    col = quote_identifier(name)
    rows = source.fetch_arrow(
        f"SELECT {col} AS value, count(*) AS n FROM {VIEW} WHERE {col} IS NOT NULL "
        f"GROUP BY {col} ORDER BY n DESC, value LIMIT {TOP}"
    ).to_pydict()
    top = [Category(plain_value(v), int(n)) for v, n in zip(rows["value"], rows["n"], strict=True)]
    return top, count - sum(c.count for c in top)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
