"""Reading the inference log, and feeding it back: ``InferenceLog``, for people.

``InferenceLog(root)`` has one method per ``gannet logs`` command: ``query(deployment,
sql)`` runs DuckDB SQL over three views, ``predictions``, ``feedback`` and ``joined``
(predictions with their labels; see ``repository``); ``show(deployment, last)`` gives the
latest rows; ``feedback(...)`` records ground truth by request id when it arrives
(``feedback``); ``compact(...)`` merges finished hours and applies retention
(``compaction``). ``root`` is a folder or any fsspec URL: a log on an object store is read
through a local cache of its files (each fetched once: files never change). The files'
format is ``schema``'s.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3

from gannet.core.errors import InvalidArgument, NotFound
from gannet.serving.log import repository, schema
from gannet.serving.log.compaction import CompactionReport, compact, log_folders, visible
from gannet.serving.log.feedback import write_feedback
from gannet.serving.log.repository import VIEWS_HINT
from gannet.serving.log.storage import LogStorage
from gannet.serving.log.writer import InferenceLogWriter

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = ["InferenceLog"]

RETRIES = 5  # listings of the files a query may take while compactions delete merged ones


class InferenceLog:
    """The log at ``root`` for people: queries with DuckDB, the latest rows, feedback.

    >>> log = InferenceLog(root)
    >>> log.feedback("churn", "req-1", 1)
    >>> log.query("churn", "SELECT avg((label = prediction)::int) FROM joined")
    """

    def __init__(self, root: str | Path, *, storage_options: dict[str, Any] | None = None,
                 cache: str | Path | None = None, confined: bool = False) -> None:
        """``confined``: queries read the log's views and nothing else (no other file, no
        change of DuckDB's settings) - for SQL from callers who may not read this machine's
        files, as a team server's."""
        self.storage = LogStorage(root, storage_options)
        self.confined = confined
        self.root = self.storage.url
        self._storage_options = storage_options
        digest = blake3.blake3(self.root.encode()).hexdigest()[:16]
        base = Path(cache) if cache is not None else Path(tempfile.gettempdir()) / "gannet-log"
        self.cache = None if self.storage.local else base / digest

    def writer(self, **options: Any) -> InferenceLogWriter:
        """An ``InferenceLogWriter`` on this log (options as its constructor's)."""
        options.setdefault("storage_options", self._storage_options)
        return InferenceLogWriter(self.root, **options)

    def deployments(self) -> list[str]:
        """Deployments with logged predictions."""
        return [f.split("=", 1)[1] for f in self.storage.folders("", "deployment=")]

    def hash(self, value: Any) -> str | None:
        """What the log stores for ``value`` in a hashed column (to find or join on it)."""
        return schema.hash_value(schema.load_or_create_salt(self.storage), value)

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
        return write_feedback(self.storage, deployment, records)

    # -- queries -------------------------------------------------------------------------

    def connect(self, deployment: str) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the views ``predictions``, ``feedback`` and
        ``joined`` over ``deployment``'s log (NotFound when nothing is logged yet)."""
        schema.check_deployment_name(deployment)
        name = f"deployment={deployment}"
        files = self._files(deployment)
        if not any(f.startswith(name) for f in files):
            known = ", ".join(self.deployments()) or "none"
            raise NotFound(
                f"no predictions logged for deployment {deployment!r} yet (looked in "
                f"{self.storage.path(name)})",
                hint=f"deployments with logged predictions: {known}",
            )
        if self.cache is None:
            paths = self.storage.local_copies(files, None)
        else:
            paths = self.storage.local_copies(files, self.cache)
            _prune(self.cache, deployment, set(files))
        feedback = f"{schema.FEEDBACK}/"
        return repository.open_views(
            [p for f, p in zip(files, paths, strict=True) if not f.startswith(feedback)],
            [p for f, p in zip(files, paths, strict=True) if f.startswith(feedback)],
            confined=self.confined)

    def _files(self, deployment: str) -> list[str]:
        """The files a reader reads now (relative paths): none that a merge holds."""
        return [f"{folder}/{name}" for folder in log_folders(self.storage, deployment)
                for name in visible(self.storage, folder)]

    def compact(self, deployment: str | None = None, *, retention_days: float | None = None,
                **options: Any) -> CompactionReport:
        """Merge finished hours into one file each and drop dates older than the retention
        (``compaction.compact``)."""
        if deployment is not None:
            schema.check_deployment_name(deployment)
        return compact(self.storage, deployment=deployment, retention_days=retention_days,
                       **options)

    def query(self, deployment: str, sql: str, *, limit: int | None = None) -> pd.DataFrame:
        """The result of ``sql`` over ``deployment``'s views, as a pandas DataFrame."""
        if not sql or not sql.strip():
            raise InvalidArgument("the query is empty", hint=VIEWS_HINT)
        for attempt in range(RETRIES):
            try:
                conn = self.connect(deployment)
                try:
                    return repository.run_query(conn, sql, limit)
                finally:
                    conn.close()
            except repository.FileGone:  # a compaction deleted a file it had merged: relist
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def traffic(self, deployment: str, since_ms: int, bucket_ms: int = 60_000
                ) -> dict[str, list[dict[str, Any]]]:
        """``deployment``'s answered requests since ``since_ms``: per ``bucket_ms`` bucket
        and version (shadow copies apart) the request count and latency p50/p95/p99
        (``buckets``), and per shadow version how many of its predictions agreed with the
        primary's on the same request rows (``shadows``). Failed requests are not logged:
        errors are the inference servers' ``/metrics`` counters."""
        from gannet.serving.log import traffic_repository

        if bucket_ms < 1000:
            raise InvalidArgument(f"a bucket of {bucket_ms} ms is too short",
                                  "count per second at the finest (bucket_ms=1000)")
        for attempt in range(RETRIES):
            conn = self.connect(deployment)
            try:
                return {"buckets": traffic_repository.per_bucket(conn, since_ms, bucket_ms),
                        "shadows": traffic_repository.shadow_agreement(conn, since_ms)}
            except repository.FileGone:  # a compaction deleted a file it had merged: relist
                if attempt == RETRIES - 1:
                    raise
            finally:
                conn.close()
        raise AssertionError("unreachable")

    def show(self, deployment: str, last: int = 20) -> pd.DataFrame:
        """The ``last`` logged rows, newest first."""
        if last < 1:
            raise InvalidArgument(f"last must be at least 1, got {last}")
        return self.query(
            deployment,
            f"SELECT * FROM predictions ORDER BY timestamp DESC, request_id, row LIMIT {last:d}",
        )



def _prune(cache: Path, deployment: str, keep: set[str]) -> None:
    """Drop cached copies of ``deployment``'s files that are no longer read (merged, expired)."""
    for top in (cache / f"deployment={deployment}",
                cache / schema.FEEDBACK / f"deployment={deployment}"):
        for path in top.rglob("*.parquet"):
            if path.relative_to(cache).as_posix() not in keep:
                path.unlink(missing_ok=True)
