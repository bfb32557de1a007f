"""Tables to compute over, and the one place their DuckDB queries run.

A Parquet file or folder, a CSV file, an Arrow table, or a pandas or polars DataFrame is
opened as the DuckDB view ``data`` (``open_table``); profiles and validation build SQL
over it and run it here (``TableSource.fetch_arrow``). Nothing is read row by row in
Python: Parquet is scanned by DuckDB where it lies (only the columns a query names are
read), in-memory tables are registered without a copy, and a CSV is parsed once by Arrow,
strictly (a file that does not parse is refused at once, with the line it stopped at).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

VIEW = "data"  # the name every query (and a suite's custom SQL) reads the table by
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


@dataclass
class TableSource:
    """An open table: ``con`` has the view ``data``; ``schema`` is its Arrow schema."""

    label: str  # what to call it in reports: the path, or "<pandas.DataFrame>"
    con: duckdb.DuckDBPyConnection
    schema: pa.Schema
    _kept: list[Any] = field(default_factory=list)  # registered objects kept alive

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def quoted(self, column: str) -> str:
        """``column`` as a DuckDB identifier, refused (naming the real ones) if unknown."""
        if column not in self.schema.names:
            raise InvalidArgument(
                f"no column {column!r} in {self.label}",
                f"the columns are: {', '.join(self.schema.names) or '(none)'}",
            )
        return quote_identifier(column)

    def fetch_arrow(self, sql: str) -> pa.Table:
        """The result of ``sql`` (over the view ``data``) as an Arrow table."""
        import duckdb

        try:
            return _as_arrow(self.con.sql(sql))
        except duckdb.Error as exc:
            raise InvalidArgument(
                f"DuckDB could not run a query over {self.label}: {exc}",
                "check the column types and any custom SQL of the suite",
            ) from exc

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> TableSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def plain_value(value: Any) -> Any:
    """A value as JSON holds it: times as ISO text, decimals as floats, NaN as None."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def open_table(table_or_path: Any) -> TableSource:
    """``table_or_path`` (a path, an Arrow table or dataset, a pandas or polars DataFrame)
    as the DuckDB view ``data``."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")  # never draw on the caller's terminal
        if isinstance(table_or_path, str | os.PathLike):
            label = os.fspath(table_or_path)
            kept = _register_path(con, Path(table_or_path))
        else:
            label, table = _in_memory(table_or_path)
            con.register(VIEW, table)
            kept = [table]
        schema = _as_arrow(con.sql(f"SELECT * FROM {VIEW} LIMIT 0")).schema
    except BaseException:
        con.close()
        raise
    return TableSource(label, con, schema, kept)


def _as_arrow(result: duckdb.DuckDBPyRelation) -> pa.Table:
    """A DuckDB relation as an Arrow table (``to_arrow_table`` in DuckDB 1.4+)."""
    read = getattr(result, "to_arrow_table", None) or result.arrow
    table = read()
    return table if hasattr(table, "schema") else table.read_all()


def _register_path(con: duckdb.DuckDBPyConnection, path: Path) -> list[Any]:
    """Make ``path`` the view ``data``; what must be kept alive while it is used."""
    import duckdb

    if not path.exists():
        raise NotFound(f"no file or folder at {path}", "give the path of a Parquet or CSV table")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.name.lower().endswith(PARQUET_SUFFIXES))
        if not files:
            raise InvalidArgument(
                f"the folder {path} holds no Parquet files (*.parquet)",
                "point at a Parquet file, a folder of them, or a CSV file",
            )
        listed = ", ".join(quote_literal(str(p)) for p in files)
        source = f"read_parquet([{listed}], union_by_name = true)"
        con.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM {source}")
        return []
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        table = _read_csv(path)
        con.register(VIEW, table)
        return [table]
    if not name.endswith(PARQUET_SUFFIXES):
        raise InvalidArgument(
            f"cannot tell the format of {path}",
            "name the file *.parquet or *.csv (a folder of Parquet files works too)",
        )
    try:
        con.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM read_parquet({quote_literal(str(path))})")
        con.execute(f"SELECT * FROM {VIEW} LIMIT 0")  # a file that is not Parquet fails here
    except duckdb.Error as exc:
        raise InvalidArgument(
            f"{path} cannot be read as Parquet: {_first_line(exc)}",
            "check that the file is well-formed Parquet",
        ) from exc
    return []


def _read_csv(path: Path) -> pa.Table:
    """The whole CSV, parsed strictly by Arrow (every row must have the header's columns)."""
    import pyarrow as pa
    from pyarrow import csv

    tab = ".tsv" in path.name.lower()
    try:
        return csv.read_csv(path, parse_options=csv.ParseOptions(delimiter="\t" if tab else ","))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(
            f"{path} cannot be read as CSV: {_first_line(exc)}",
            "check that the file is well-formed CSV (a header, then rows of as many fields)",
        ) from exc


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


def _in_memory(table: Any) -> tuple[str, Any]:
    """(label, an object DuckDB registers) for an Arrow table/dataset or a DataFrame."""
    module, name = type(table).__module__, type(table).__name__
    kind = f"{module.split('.')[0]}.{name}"
    if module.startswith("polars"):
        return f"<{kind}>", table.to_arrow()
    arrow = module.startswith("pyarrow") and (
        name in ("Table", "RecordBatch") or module == "pyarrow._dataset")
    if arrow or kind == "pandas.DataFrame":
        return f"<{kind}>", table
    raise InvalidArgument(
        f"cannot read a table from a {kind}",
        "pass a path (Parquet file or folder, CSV), a pyarrow Table, or a pandas or polars "
        "DataFrame",
    )
