"""Reading the inference log, and feeding it back: ``InferenceLog``, for people.

``InferenceLog(root)`` has one method per ``gannet logs`` command: ``query(deployment,
sql)`` runs DuckDB SQL over three views, ``predictions``, ``feedback`` and ``joined``
(predictions with their labels; see ``repository``); ``show(deployment, last)`` gives the
latest rows; ``feedback(...)`` records ground truth by request id when it arrives
(``feedback``). The files' format is ``schema``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument, NotFound
from gannet.serving.log import repository, schema
from gannet.serving.log.feedback import write_feedback
from gannet.serving.log.repository import VIEWS_HINT
from gannet.serving.log.writer import InferenceLogWriter

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["InferenceLog"]


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
        schema.check_deployment_name(deployment)
        folder = self.root / f"deployment={deployment}"
        if not next(folder.glob(repository.PREDICTIONS), None):
            known = ", ".join(self.deployments()) or "none"
            raise NotFound(
                f"no predictions logged for deployment {deployment!r} yet (looked in {folder})",
                hint=f"deployments with logged predictions: {known}",
            )
        return repository.open_views(folder, self.root / schema.FEEDBACK / folder.name)

    def query(self, deployment: str, sql: str, *, limit: int | None = None) -> pd.DataFrame:
        """The result of ``sql`` over ``deployment``'s views, as a pandas DataFrame."""
        if not sql or not sql.strip():
            raise InvalidArgument("the query is empty", hint=VIEWS_HINT)
        conn = self.connect(deployment)
        try:
            return repository.run_query(conn, sql, limit)
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

