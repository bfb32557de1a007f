"""Reading the inference log: DuckDB views over its Parquet files, and feedback to it.

``InferenceLog(root)`` is the log for people, one method per ``gannet logs`` command:
``query(deployment, sql)`` runs DuckDB SQL over three views, ``predictions``,
``feedback`` and ``joined`` (predictions with their labels); ``show(deployment, last)``
gives the latest rows; ``feedback(...)`` records ground truth by request id when it
arrives. The format is ``gannet.serving.log.schema``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument, NotFound
from gannet.serving.log import schema
from gannet.serving.log.feedback import write_feedback
from gannet.serving.log.writer import InferenceLogWriter

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["VIEWS_HINT", "InferenceLog"]

VIEWS_HINT = (
    "query the views predictions, feedback and joined; quote names with dots or spaces: "
    '"input.age", "proba.1"'
)

# Feedback for a row wins over feedback for its whole request; the latest label counts.
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


class InferenceLog:
    """The log at ``root`` for people: queries with DuckDB, the latest rows, feedback.

    >>> log = InferenceLog(root)
    >>> log.feedback("churn", "req-1", 1)
    >>> log.query("churn", "SELECT avg((label = prediction)::int) FROM joined")
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def writer(self, **options: Any) -> InferenceLogWriter:
        """An ``InferenceLogWriter`` on this log (options as its constructor's)."""
        return InferenceLogWriter(self.root, **options)

    def deployments(self) -> list[str]:
        """Deployments with logged predictions."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name.split("=", 1)[1] for p in self.root.glob("deployment=*") if p.is_dir()
        )

    def hash(self, value: Any) -> str | None:
        """What the log stores for ``value`` in a hashed column (to find or join on it)."""
        return schema.hash_value(schema.load_or_create_salt(self.root), value)

    # -- feedback ------------------------------------------------------------------------

    def feedback(
        self,
        deployment: str,
        request_id: str,
        label: Any,
        *,
        row: int | None = None,
        timestamp: int | dt.datetime | None = None,
    ) -> None:
        """Record the true ``label`` of a request (every row of it, or only ``row``)."""
        self.feedback_many(
            deployment, [{"request_id": request_id, "label": label, "row": row,
                          "timestamp": timestamp}]
        )

    def feedback_many(self, deployment: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Many labels at once (mappings with ``request_id``, ``label``, optional ``row`` and
        ``timestamp``), written as one file per date; returns how many were written."""
        return write_feedback(self.root, deployment, records)

    # -- queries -------------------------------------------------------------------------

    def connect(self, deployment: str) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the views ``predictions``, ``feedback`` and
        ``joined`` over ``deployment``'s log (NotFound when nothing is logged yet)."""
        import duckdb

        schema.check_deployment_name(deployment)
        folder = self.root / f"deployment={deployment}"
        pattern = "version=*/date=*/*.parquet"
        if not next(folder.glob(pattern), None):
            known = ", ".join(self.deployments()) or "none"
            raise NotFound(
                f"no predictions logged for deployment {deployment!r} yet (looked in {folder})",
                hint=f"deployments with logged predictions: {known}",
            )
        conn = duckdb.connect(":memory:")
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"CREATE VIEW predictions AS SELECT * FROM {_scan(folder / pattern)}")
        feedback = self.root / schema.FEEDBACK / f"deployment={deployment}"
        if next(feedback.glob("date=*/*.parquet"), None):
            source = _scan(feedback / "date=*" / "*.parquet")
            conn.execute(f"CREATE VIEW feedback AS SELECT request_id, row, label, timestamp "
                         f"FROM {source}")
        else:
            conn.execute(_NO_FEEDBACK)
        conn.execute(_JOINED)
        return conn

    def query(self, deployment: str, sql: str, *, limit: int | None = None) -> pd.DataFrame:
        """The result of ``sql`` over ``deployment``'s views, as a pandas DataFrame."""
        import duckdb
        import pandas as pd

        if not sql or not sql.strip():
            raise InvalidArgument("the query is empty", hint=VIEWS_HINT)
        conn = self.connect(deployment)
        try:
            relation = conn.sql(sql)
            if relation is None:  # a statement without a result
                return pd.DataFrame()
            if limit is not None:
                relation = relation.limit(limit)
            return _to_pandas(relation)
        except duckdb.Error as exc:
            raise InvalidArgument(f"the query failed: {_problem(exc)}", hint=VIEWS_HINT) from None
        finally:
            conn.close()

    def show(self, deployment: str, last: int = 20) -> pd.DataFrame:
        """The ``last`` logged rows, newest first."""
        if last < 1:
            raise InvalidArgument(f"last must be at least 1, got {last}")
        return self.query(
            deployment,
            f"SELECT * FROM predictions ORDER BY timestamp DESC, request_id, row LIMIT {last:d}",
        )


def _problem(exc: Exception) -> str:
    """DuckDB's message without the echoed query ("LINE 1: ..."), on one line."""
    text = str(exc).split("\nLINE ", 1)[0].strip()
    return " ".join(text.split()) or type(exc).__name__


def _to_pandas(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """Through Arrow: faster than ``relation.df()``, and it keeps time zones as pandas 3
    wants them (DuckDB's own conversion trips a pandas deprecation on TIMESTAMPTZ)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch().to_pandas()


def _scan(pattern: Path) -> str:
    quoted = str(pattern).replace("'", "''")
    return f"read_parquet('{quoted}', hive_partitioning = true, union_by_name = true)"
