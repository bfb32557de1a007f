"""The inference log: every answered request as Parquet rows; feedback; DuckDB queries.

- ``types``: ``LoggedPrediction`` (one answered request) and the ``PredictionLog``
  protocol the server writes through
- ``schema``: the on-disk format - partitions, file names, masking and hashing, the
  salt, ``default_root``
- ``storage``: ``LogStorage``, the log's files in a folder or on an object store (any
  fsspec URL), written whole or not at all
- ``rows``: answered requests turned into Arrow tables, stacked in bulk
- ``compaction``: each finished hour's files merged into one (readers never see a row
  twice), retention, and ``LogCompactor`` for servers
- ``writer``: ``InferenceLogWriter``, the server's log - a bounded queue and a background
  thread, never a wait on the request path
- ``feedback``: ground truth by request id, checked and written as Parquet
- ``repository``: the log's SQL - DuckDB views (``predictions``, ``feedback``, ``joined``)
  over its files, and running queries on them
- ``traffic_repository``: the SQL of live traffic - requests and latency per minute by
  version, shadow versions' agreement with the primary
- ``reader``: ``InferenceLog`` - ``query``, ``show`` and ``feedback``, as ``gannet logs``;
  ``traffic`` for the web UI's deployment page

The names below load on first use (pyarrow and duckdb load with the modules that need
them).
"""

from __future__ import annotations

from gannet.core.lazy import lazy_exports

_WHERE = {
    "InferenceLog": "reader",
    "InferenceLogWriter": "writer",
    "LoggedPrediction": "types",
    "PredictionLog": "types",
    "default_root": "schema",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
