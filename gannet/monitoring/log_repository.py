"""The monitor's SQL over the inference log: DuckDB over the log's views (``predictions``,
``feedback``, ``joined``; see ``gannet.serving.log.repository``). Rows come back as Arrow
tables, timestamps as milliseconds since the epoch; shadow answers are left out (nobody
received them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["columns", "labelled_rows", "labels_since", "last_rows",
           "rows_between", "time_range", "unknown_labels"]

_MS = "epoch_ms(timestamp) AS ts"
DAY = 86_400_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(names: Sequence[str]) -> str:
    return ", ".join([_MS, *(_quote(n) for n in names)])


def _served(names: Sequence[str]) -> str:
    return "coalesce(NOT shadow, true)" if "shadow" in names else "true"


def _arrow(conn: duckdb.DuckDBPyConnection, sql: str, params: list[int] | None = None
           ) -> pa.Table:
    """A query's result as an Arrow table, without the copy of a DB-API result."""
    relation = conn.sql(sql, params=params or None)
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def columns(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of the ``predictions`` view."""
    return [row[0] for row in conn.execute("DESCRIBE predictions").fetchall()]


def _between(available: Sequence[str], start: int | None, end: int | None
             ) -> tuple[str, list[int]]:
    where = [_served(available)]
    params: list[int] = []
    if start is not None:
        where.append("timestamp >= make_timestamp(?::BIGINT * 1000)")
        params.append(start)
    if end is not None:
        where.append("timestamp < make_timestamp(?::BIGINT * 1000)")
        params.append(end)
    return " AND ".join(where), params


def rows_between(conn: duckdb.DuckDBPyConnection, names: Sequence[str], available: Sequence[str],
                 start: int | None, end: int | None = None) -> pa.Table:
    """Rows logged at or after ``start`` and before ``end`` (ms; None: no bound), in no
    particular order, with ``ts`` and the columns ``names``."""
    where, params = _between(available, start, end)
    return _arrow(conn, f"SELECT {_select(names)} FROM predictions WHERE {where}", params)


def time_range(conn: duckdb.DuckDBPyConnection, available: Sequence[str], start: int | None
               ) -> tuple[int, int] | None:
    """(first, last) ms bounding the rows logged at or after ``start`` (None: none). The
    log's date partitions answer it without reading a row: the bounds are whole days."""
    if "date" in available:
        (row,) = conn.execute("SELECT min(date), max(date) FROM predictions").fetchall()
        if row[0] is None:
            return None
        first = int(dt.datetime.combine(row[0], dt.time(), dt.UTC).timestamp() * 1000)
        last = int(dt.datetime.combine(row[1], dt.time(), dt.UTC).timestamp() * 1000) + DAY - 1
        first = first if start is None else max(first, start)
        return None if first > last else (first, last)
    return _exact_range(conn, available, start)


def _exact_range(conn: duckdb.DuckDBPyConnection, available: Sequence[str], start: int | None
                 ) -> tuple[int, int] | None:
    """(first, last) ms of the rows logged at or after ``start``; None when there are none."""
    where, params = _served(available), []
    if start is not None:
        where += " AND timestamp >= make_timestamp(?::BIGINT * 1000)"
        params.append(start)
    (row,) = conn.execute(f"SELECT epoch_ms(min(timestamp)), epoch_ms(max(timestamp)) "
                          f"FROM predictions WHERE {where}", params).fetchall()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def last_rows(conn: duckdb.DuckDBPyConnection, names: Sequence[str], available: Sequence[str],
              count: int) -> pa.Table:
    """The ``count`` latest rows, oldest first."""
    sql = (f"SELECT * FROM (SELECT {_select(names)} FROM predictions WHERE "
           f"{_served(available)} ORDER BY timestamp DESC LIMIT {int(count):d}) ORDER BY ts")
    return _arrow(conn, sql)


def labelled_rows(conn: duckdb.DuckDBPyConnection, names: Sequence[str],
                  available: Sequence[str], start: int) -> pa.Table:
    """Rows logged at or after ``start`` whose label arrived, with ``label`` and
    ``label_ts`` (when it arrived, ms)."""
    sql = (f"SELECT {_select(names)}, label, epoch_ms(feedback_timestamp) AS label_ts "
           f"FROM joined WHERE label IS NOT NULL AND {_served(available)} "
           f"AND timestamp >= make_timestamp(?::BIGINT * 1000)")
    return _arrow(conn, sql, [start])


def labels_since(conn: duckdb.DuckDBPyConnection, start: int) -> int:
    """How many labels were given at or after ``start`` (the feedback files only)."""
    sql = "SELECT count(*) FROM feedback WHERE timestamp >= make_timestamp(?::BIGINT * 1000)"
    (row,) = conn.execute(sql, [start]).fetchall()
    return int(row[0])


def unknown_labels(conn: duckdb.DuckDBPyConnection, start: int) -> int:
    """Labels given at or after ``start`` for request ids the log never answered."""
    sql = ("SELECT count(*) FROM feedback f WHERE f.timestamp >= make_timestamp(?::BIGINT * 1000) "
           "AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.request_id = f.request_id)")
    (row,) = conn.execute(sql, [start]).fetchall()
    return int(row[0])
