"""The inference log: every answered request as Parquet rows, feedback, and DuckDB queries.

Writing (``InferenceLogWriter``, the server's ``PredictionLog``): ``log()`` runs on the
request path, so it only appends to a bounded in-memory queue — a few hundred nanoseconds,
never I/O, never a wait. A background thread turns what is queued into one Parquet file
per (deployment, version, date) partition every ``flush_interval`` seconds (default 1 s:
a killed process loses at most the last second of rows; ``close()`` — also run at
interpreter exit — loses nothing). When the queue is full the *new* prediction is
dropped and counted in ``dropped``: the server never blocks on its log.

Reading (``InferenceLog``): ``query(deployment, sql)`` runs DuckDB SQL over three views,
``predictions``, ``feedback`` and ``joined`` (predictions with their labels), and
``feedback(...)`` records ground truth by request id when it arrives. The format is
described in ``gannet.serving.log_schema``.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound
from gannet.serving import log_schema
from gannet.serving.log_schema import FEEDBACK, Partition, check_deployment_name
from gannet.serving.types import LoggedPrediction

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from gannet.core.settings import Settings

__all__ = ["InferenceLog", "InferenceLogWriter", "default_root"]

logger = logging.getLogger(__name__)

VIEWS_HINT = (
    "query the views predictions, feedback and joined; quote names with dots or spaces: "
    '"input.age", "proba.1"'
)


def default_root(settings: Settings) -> Path:
    """Where the log lives: the ``inference_log_url`` setting (``<home>/inference-log``)."""
    return Path(settings.inference_log_url).expanduser()


class InferenceLogWriter:
    """Predictions to Parquet, off the request path (implements ``PredictionLog``).

    ``log()`` never blocks and never raises for a full queue (``max_queue`` predictions,
    i.e. requests, waiting) or a closed writer: such predictions are dropped and counted
    (``dropped``). ``written`` counts rows on disk,
    ``failed`` predictions that could not be written (``last_error`` says why). The
    writer keeps a reference to each prediction's inputs and outputs until it writes
    them: do not change them after logging. Make it (or at least log first) after a
    server forks its workers: its thread starts on the first ``log()``.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        salt: bytes | None = None,
        compression: str | None = "zstd",
    ) -> None:
        if not flush_interval > 0:
            raise InvalidArgument(f"flush_interval must be > 0 seconds, got {flush_interval}")
        if max_queue < 1:
            raise InvalidArgument(f"max_queue must be at least 1, got {max_queue}")
        self.root = Path(root)
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.compression = compression
        self._salt = salt
        self._queue: deque[LoggedPrediction] = deque()
        self._lock = threading.Lock()
        self._done_cond = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False
        self._accepted = 0  # predictions queued so far
        self._handled = 0  # of those, how many the thread has written (or given up on)
        self._dropped = 0
        self._written = 0
        self._failed = 0
        self.last_error: str | None = None

    # -- the request path ----------------------------------------------------------------

    def log(self, prediction: LoggedPrediction) -> None:
        """Queue ``prediction`` for writing; when full or closed, drop it and count it."""
        with self._lock:
            if self._closed or len(self._queue) >= self.max_queue:
                self._dropped += 1
                return
            self._queue.append(prediction)
            self._accepted += 1
            if self._thread is None:
                self._start()

    @property
    def dropped(self) -> int:
        """Predictions refused because the queue was full or the writer closed."""
        return self._dropped

    @property
    def written(self) -> int:
        """Rows written to Parquet files so far."""
        return self._written

    @property
    def failed(self) -> int:
        """Predictions that could not be written (bad shapes, a full disk...)."""
        return self._failed

    @property
    def pending(self) -> int:
        """Predictions queued and not yet written."""
        return len(self._queue)

    # -- control -------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued before this call now; False if ``timeout`` ran out."""
        with self._done_cond:
            target = self._accepted
            if self._handled >= target or self._thread is None:
                return True
            self._wake.set()
            return self._done_cond.wait_for(lambda: self._handled >= target, timeout)

    def close(self) -> None:
        """Write what is queued and stop; later ``log()`` calls are dropped (and counted)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake.set()
        if thread is not threading.current_thread():
            thread.join()
        atexit.unregister(self.close)

    def __enter__(self) -> InferenceLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the background thread -----------------------------------------------------------

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="gannet-inference-log", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)  # a normal exit writes what is queued

    def _run(self) -> None:
        deadline = time.monotonic() + self.flush_interval
        log_schema.warm_up()  # first-use imports now, not in the first flush's second
        while True:
            self._wake.wait(max(0.0, deadline - time.monotonic()))
            self._wake.clear()
            now = time.monotonic()
            if now >= deadline:  # a steady beat (flush() in between does not move it);
                deadline = max(deadline + self.flush_interval, now)  # behind: at once
            stopping = self._stopping
            self._write_pending()
            if stopping:
                with self._lock:
                    if not self._queue:
                        return

    def _write_pending(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, deque()
            upto = self._accepted
        try:
            if batch:
                self._write(list(batch))
        except Exception as exc:  # the thread must live on, whatever one batch does
            self._note_failure(len(batch), exc)
        finally:
            with self._done_cond:
                self._handled = upto
                self._done_cond.notify_all()

    def _write(self, batch: list[LoggedPrediction]) -> None:
        partitions: dict[Partition, list[LoggedPrediction]] = {}
        for p in batch:
            try:
                check_deployment_name(p.deployment)
                partitions.setdefault(log_schema.partition_of(p), []).append(p)
            except Exception as exc:
                self._note_failure(1, exc, p)
        salt = self._salt_for(batch)
        for partition, predictions in sorted(partitions.items()):
            try:
                tables = log_schema.predictions_tables(
                    predictions, salt, lambda p, exc: self._note_failure(1, exc, p)
                )
                for table in tables:
                    log_schema.write_atomically(
                        table, partition.folder(self.root), compression=self.compression
                    )
                    self._written += table.num_rows
            except Exception as exc:
                self._note_failure(len(predictions), exc)

    def _salt_for(self, batch: list[LoggedPrediction]) -> bytes | None:
        if self._salt is None and any(p.extra.get("hashed") for p in batch):
            self._salt = log_schema.load_or_create_salt(self.root)
        return self._salt

    def _note_failure(
        self, count: int, exc: Exception, prediction: LoggedPrediction | None = None
    ) -> None:
        self._failed += count
        where = ""
        if prediction is not None:
            where = f"request {prediction.request_id} of {prediction.deployment}: "
        self.last_error = f"{where}{type(exc).__name__}: {exc}"
        logger.warning("inference log at %s: could not write %d prediction(s): %s",
                       self.root, count, self.last_error)


class InferenceLog:
    """The log at ``root`` for people: queries with DuckDB, feedback, a writer.

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
        return log_schema.hash_value(log_schema.load_or_create_salt(self.root), value)

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
        check_deployment_name(deployment)
        by_date: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            checked = _feedback_record(record)
            by_date.setdefault(log_schema.utc_date(checked["timestamp_ms"]), []).append(checked)
        folder = self.root / FEEDBACK / f"deployment={deployment}"
        for date, rows in sorted(by_date.items()):
            log_schema.write_atomically(log_schema.feedback_table(rows), folder / f"date={date}")
        return sum(len(rows) for rows in by_date.values())

    # -- queries -------------------------------------------------------------------------

    def connect(self, deployment: str) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the views ``predictions``, ``feedback`` and
        ``joined`` over ``deployment``'s log (NotFound when nothing is logged yet)."""
        import duckdb

        check_deployment_name(deployment)
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
        feedback = self.root / FEEDBACK / f"deployment={deployment}"
        if next(feedback.glob("date=*/*.parquet"), None):
            source = _scan(feedback / "date=*" / "*.parquet")
            conn.execute(f"CREATE VIEW feedback AS SELECT request_id, row, label, timestamp "
                         f"FROM {source}")
        else:
            conn.execute(
                "CREATE VIEW feedback AS SELECT * FROM (VALUES (NULL::VARCHAR, NULL::INTEGER, "
                "NULL, NULL::TIMESTAMPTZ)) AS t(request_id, row, label, timestamp) WHERE false"
            )
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

    def latest(self, deployment: str, last: int = 20) -> pd.DataFrame:
        """The ``last`` logged rows, newest first."""
        if last < 1:
            raise InvalidArgument(f"last must be at least 1, got {last}")
        return self.query(
            deployment,
            f"SELECT * FROM predictions ORDER BY timestamp DESC, request_id, row LIMIT {last:d}",
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


def _feedback_record(record: Mapping[str, Any]) -> dict[str, Any]:
    request_id = record.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise InvalidArgument(f"feedback needs a request id (a non-empty string), got "
                              f"{request_id!r}")
    row = record.get("row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
        raise InvalidArgument(f"feedback row must be a row index (>= 0) or None, got {row!r}")
    if record.get("label") is None:
        raise InvalidArgument(f"feedback for request {request_id!r} has no label")
    return {"request_id": request_id, "row": row, "label": record["label"],
            "timestamp_ms": _timestamp_ms(record.get("timestamp"))}


def _timestamp_ms(value: int | dt.datetime | None) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC; None is now."""
    if value is None:
        return now_ms()
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return int(aware.timestamp() * 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidArgument(f"a feedback timestamp is milliseconds since the epoch or a datetime, "
                          f"got {value!r}")
