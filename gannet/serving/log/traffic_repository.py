"""The inference log's SQL for live traffic: requests per time bucket with latency
percentiles, by version (shadow copies apart), and how often a shadow version's
predictions agree with the primary's for the same request rows.

Runs on a connection from ``repository.open_views`` (the ``predictions`` view). A request
is counted once however many rows it had: its rows share one ``request_id``, timestamp
and latency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gannet.serving.log.repository import FileGone

if TYPE_CHECKING:
    import duckdb

__all__ = ["has_column", "per_bucket", "shadow_agreement"]

_PER_BUCKET = """
WITH requests AS (
    SELECT request_id, CAST(version AS VARCHAR) AS version, shadow,
           epoch_ms(min(timestamp)) AS started, max(latency_ms) AS latency_ms
    FROM predictions
    WHERE timestamp >= to_timestamp($since / 1000.0)
    GROUP BY request_id, version, shadow
)
SELECT (started // $bucket) * $bucket AS bucket, version, shadow, count(*) AS requests,
       quantile_cont(latency_ms, 0.5) AS p50, quantile_cont(latency_ms, 0.95) AS p95,
       quantile_cont(latency_ms, 0.99) AS p99
FROM requests
GROUP BY ALL
ORDER BY bucket, version, shadow
"""

_AGREEMENT = """
SELECT CAST(s.version AS VARCHAR) AS shadow_version, CAST(p.version AS VARCHAR) AS version,
       count(*) AS compared,
       sum(CASE WHEN CAST(s.prediction AS VARCHAR) = CAST(p.prediction AS VARCHAR)
           THEN 1 ELSE 0 END) AS agreed
FROM predictions AS s
JOIN predictions AS p ON p.request_id = s.request_id AND p.row = s.row AND NOT p.shadow
WHERE s.shadow AND s.timestamp >= to_timestamp($since / 1000.0)
GROUP BY ALL
ORDER BY shadow_version, version
"""


def _fetch(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[Any]:
    import duckdb

    try:
        return conn.execute(sql, params).fetchall()
    except duckdb.IOException as exc:
        if "No such file" in str(exc) or "No files found" in str(exc):
            raise FileGone(str(exc)) from None
        raise


def has_column(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = conn.execute("SELECT column_name FROM (DESCRIBE predictions)").fetchall()
    return any(row[0] == name for row in rows)


def per_bucket(conn: duckdb.DuckDBPyConnection, since_ms: int, bucket_ms: int
               ) -> list[dict[str, Any]]:
    """One row per (bucket start in ms, version, shadow): requests and latency p50/95/99."""
    found = _fetch(conn, _PER_BUCKET, {"since": since_ms, "bucket": bucket_ms})
    keys = ("bucket", "version", "shadow", "requests", "p50", "p95", "p99")
    return [dict(zip(keys, row, strict=True)) for row in found]


def shadow_agreement(conn: duckdb.DuckDBPyConnection, since_ms: int) -> list[dict[str, Any]]:
    """Per shadow version and primary version: rows compared and rows that agreed."""
    if not has_column(conn, "prediction"):
        return []  # a multi-output model's predictions are prediction.<name> columns
    found = _fetch(conn, _AGREEMENT, {"since": since_ms})
    keys = ("shadow_version", "version", "compared", "agreed")
    return [dict(zip(keys, row, strict=True)) for row in found]
