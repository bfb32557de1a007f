"""The inference log's SQL: DuckDB views over its Parquet files, and running queries on them.

The only module of the log that talks to DuckDB (``InferenceLog`` decides what to ask):

- ``predictions``: every logged row of one deployment, with the Hive partition columns
  ``deployment``, ``version`` and ``date``; files of differing columns are read by name;
- ``feedback``: ``request_id``, ``row`` (null: the whole request), ``label``, ``timestamp``
  (empty, typed, when no label arrived yet);
- ``joined``: ``predictions`` with each row's latest ``label`` and its
  ``feedback_timestamp``; a label for a row wins over one for its whole request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gannet.core.errors import InvalidArgument

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["VIEWS_HINT", "FileGone", "open_views", "run_query"]

VIEWS_HINT = (
    "query the views predictions, feedback and joined; quote names with dots or spaces: "
    '"input.age", "proba.1"'
)

_JOINED = """
CREATE VIEW joined AS
WITH latest AS (
    SELECT request_id, row, label, timestamp FROM feedback
    QUALIFY row_number() OVER (PARTITION BY request_id, row ORDER BY timestamp DESC) = 1
)
SELECT p.*,
       coalesce(by_row.label, by_request.label) AS label,
       coalesce(by_row.timestamp, by_request.timestamp) AS feedback_timestamp
FROM predictions AS p
LEFT JOIN latest AS by_row ON by_row.request_id = p.request_id AND by_row.row = p.row
LEFT JOIN latest AS by_request
       ON by_request.request_id = p.request_id AND by_request.row IS NULL
"""
_NO_FEEDBACK = (
    "CREATE VIEW feedback AS SELECT * FROM (VALUES (NULL::VARCHAR, NULL::INTEGER, "
    "NULL, NULL::TIMESTAMPTZ)) AS t(request_id, row, label, timestamp) WHERE false"
)


def open_views(predictions: Sequence[str], feedback: Sequence[str], *, confined: bool = False
               ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection (UTC) with the three views over one deployment's
    prediction files (at least one) and feedback files (maybe none), given by path: the
    files a reader reads at this moment (see ``compaction``), never a glob that a merge
    could change under the query. ``confined``: those files are the only ones a query
    may read, and no statement may change the settings that say so."""
    import duckdb

    conn = duckdb.connect(":memory:")
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"CREATE VIEW predictions AS SELECT * FROM {_scan(predictions)}")
        if feedback:
            conn.execute(f"CREATE VIEW feedback AS SELECT request_id, row, label, timestamp "
                         f"FROM {_scan(feedback)}")
        else:
            conn.execute(_NO_FEEDBACK)
        conn.execute(_JOINED)
        if confined:
            _confine(conn, [*predictions, *feedback])
    except duckdb.IOException as exc:  # the view reads the files' schemas
        conn.close()
        raise FileGone(str(exc)) from None
    return conn


def run_query(conn: duckdb.DuckDBPyConnection, sql: str, limit: int | None) -> pd.DataFrame:
    """``sql``'s result as a DataFrame (empty for a statement without one); what DuckDB
    refuses is InvalidArgument with its reason."""
    import duckdb
    import pandas as pd

    try:
        relation = conn.sql(sql)
        if relation is None:  # a statement without a result
            return pd.DataFrame()
        if limit is not None:
            relation = relation.limit(limit)
        return _to_pandas(relation)
    except duckdb.IOException as exc:
        if "No such file" in str(exc) or "No files found" in str(exc):
            raise FileGone(str(exc)) from None
        raise InvalidArgument(f"the query failed: {_problem(exc)}", hint=VIEWS_HINT) from None
    except duckdb.Error as exc:
        raise InvalidArgument(f"the query failed: {_problem(exc)}", hint=VIEWS_HINT) from None


def _confine(conn: duckdb.DuckDBPyConnection, paths: Sequence[str]) -> None:
    """Allow reading ``paths`` only: no other file, no extension, no attached database;
    then lock the configuration so a query cannot lift it."""
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    conn.execute(f"SET allowed_paths = [{listed}]")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET autoinstall_known_extensions = false")
    conn.execute("SET autoload_known_extensions = false")
    conn.execute("SET lock_configuration = true")


class FileGone(Exception):
    """A file listed for the query was deleted before it was read (merged long enough ago
    that its retention ran out): list the files again and rerun."""


def _problem(exc: Exception) -> str:
    """DuckDB's message without the echoed query ("LINE 1: ..."), on one line."""
    text = str(exc).split("\nLINE ", 1)[0].strip()
    return " ".join(text.split()) or type(exc).__name__


def _to_pandas(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """Through Arrow: faster than ``relation.df()``, and it keeps time zones as pandas 3
    wants them (DuckDB's own conversion trips a pandas deprecation on TIMESTAMPTZ)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch().to_pandas()


def _scan(paths: Sequence[str]) -> str:
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{listed}], hive_partitioning = true, union_by_name = true)"
