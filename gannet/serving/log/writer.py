"""Writing the inference log: every answered request as Parquet rows, off the request path.

``InferenceLogWriter`` is the server's ``PredictionLog``. ``log()`` runs on the request
path, so it only appends to a bounded in-memory queue — a few hundred nanoseconds, never
I/O, never a wait. A background thread turns what is queued into one Parquet file per
(deployment, version, date) partition every ``flush_interval`` seconds, in the log's
``LogStorage`` (a folder, or an object store every replica shares) (default 1 s: a
killed process loses at most the last second of rows; ``close()`` — also run at
interpreter exit — loses nothing). When the queue is full the *new* prediction is dropped
and counted in ``dropped``: the server never blocks on its log. The format is
``gannet.serving.log.schema``'s.

``feedback()`` queues ground truth the same way (the server's ``POST /feedback``): labels
are checked at once and written by the same thread, one file per deployment and date at
each flush - never one file per label. A full label queue refuses the label
(``Unavailable``) instead of dropping it: the caller is told, and can send it again.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import pyarrow as pa

from gannet.core.errors import InvalidArgument, Unavailable
from gannet.serving.log import rows, schema
from gannet.serving.log.feedback import check_feedback, write_feedback_rows
from gannet.serving.log.schema import Partition, check_deployment_name
from gannet.serving.log.storage import LogStorage
from gannet.serving.log.types import LoggedPrediction

__all__ = ["InferenceLogWriter"]

logger = logging.getLogger(__name__)

DAY_MS = 86_400_000


class InferenceLogWriter:
    """Predictions to Parquet, off the request path (implements ``PredictionLog``).

    ``log()`` never blocks and never raises for a full queue (``max_queue`` predictions,
    i.e. requests, waiting) or a closed writer: such predictions are dropped and counted
    (``dropped``). ``written`` counts rows on disk,
    ``failed`` predictions that could not be written (``last_error`` says why). The
    writer keeps a reference to each prediction's inputs and outputs until it writes
    them: do not change them after logging. Make it (or at least log first) after a
    server forks its workers: its thread starts on the first ``log()``.

    ``feedback()`` queues labels for the same thread (``labelled`` counts them on disk).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        storage_options: dict[str, Any] | None = None,
        flush_interval: float = 1.0,
        stage_interval: float = 0.05,
        max_queue: int = 100_000,
        salt: bytes | None = None,
        compression: str | None = "zstd",
    ) -> None:
        if not flush_interval > 0:
            raise InvalidArgument(f"flush_interval must be > 0 seconds, got {flush_interval}")
        if max_queue < 1:
            raise InvalidArgument(f"max_queue must be at least 1, got {max_queue}")
        self.storage = LogStorage(root, storage_options)
        self.root = self.storage.url
        self.flush_interval = flush_interval
        self.stage_interval = min(stage_interval, flush_interval)
        self.max_queue = max_queue
        self.compression = compression
        self._salt = salt
        self._queue: deque[LoggedPrediction] = deque()
        self._labels: list[tuple[str, dict[str, Any]]] = []  # (deployment, checked label)
        self._lock = threading.Lock()
        self._done_cond = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False
        self._asked = False  # flush() wants the staged tables written now
        self._staged: dict[Partition, list[pa.Table]] = {}  # tables made, not yet written
        self._held_labels: list[tuple[str, dict[str, Any]]] = []  # taken by _stage
        self._staged_upto = 0  # predictions and labels accepted when _stage last looked
        self._accepted = 0  # predictions and labels queued so far
        self._handled = 0  # of those, how many the thread has written (or given up on)
        self._dropped = 0
        self._written = 0
        self._labelled = 0
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

    def feedback(
        self,
        deployment: str,
        request_id: str,
        label: Any,
        *,
        row: int | None = None,
        timestamp: int | dt.datetime | None = None,
    ) -> None:
        """Queue the true ``label`` of a request (every row of it, or only ``row``), as
        ``InferenceLog.feedback`` takes it; written with the next flush. A wrong label is
        refused at once (``InvalidArgument``), and so is any label while ``max_queue``
        labels wait or after ``close()`` (``Unavailable``): never dropped unsaid."""
        check_deployment_name(deployment)
        checked = check_feedback({"request_id": request_id, "label": label, "row": row,
                                  "timestamp": timestamp})
        with self._lock:
            if self._closed or len(self._labels) >= self.max_queue:
                state = "closed" if self._closed else f"behind ({len(self._labels)} labels wait)"
                raise Unavailable(f"the inference log at {self.root} is {state}",
                                  "send the label again later")
            self._labels.append((deployment, checked))
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
    def labelled(self) -> int:
        """Labels (``feedback()``) written to Parquet files so far."""
        return self._labelled

    @property
    def failed(self) -> int:
        """Predictions and labels that could not be written (bad shapes, a full disk...)."""
        return self._failed

    @property
    def pending(self) -> int:
        """Predictions and labels queued and not yet written."""
        return self._accepted - self._handled

    # -- control -------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued before this call now; False if ``timeout`` ran out."""
        with self._done_cond:
            target = self._accepted
            if self._handled >= target or self._thread is None:
                return True
            self._asked = True
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
        schema.warm_up()  # first-use imports now, not in the first flush's second
        while True:
            now = time.monotonic()
            self._wake.wait(max(0.0, min(deadline, now + self.stage_interval) - now))
            self._wake.clear()
            now = time.monotonic()
            stopping, asked, self._asked = self._stopping, self._asked, False
            self._stage()
            if now >= deadline or asked or stopping:
                if now >= deadline:  # a steady beat (flush() in between does not move it);
                    deadline = max(deadline + self.flush_interval, now)  # behind: at once
                self._write_staged()
            if stopping:
                with self._lock:
                    if not self._queue and not self._labels:
                        return

    def _stage(self) -> None:
        """Turn what is queued into Arrow tables now - a few milliseconds of work at a time,
        so the interpreter lock is never held long enough to stall the server's requests."""
        with self._lock:
            batch, self._queue = self._queue, deque()
            self._held_labels += self._labels
            self._labels = []
            self._staged_upto = self._accepted  # all of these are staged or held now
        if not batch:
            return
        try:
            self._tables(list(batch))
        except Exception as exc:  # the thread must live on, whatever one batch does
            self._note_failure(len(batch), exc)

    def _tables(self, batch: list[LoggedPrediction]) -> None:
        partitions: dict[tuple[str, int, int], list[LoggedPrediction]] = {}
        for p in batch:  # by deployment, version and UTC day: no date formatting per row
            partitions.setdefault((p.deployment, p.version, p.timestamp_ms // DAY_MS),
                                  []).append(p)
        salt = self._salt_for(batch)
        for (deployment, _, _), predictions in partitions.items():
            try:
                check_deployment_name(deployment)
                partition = schema.partition_of(predictions[0])
                tables = rows.predictions_tables(
                    predictions, salt, lambda p, exc: self._note_failure(1, exc, p)
                )
            except Exception as exc:
                self._note_failure(len(predictions), exc, predictions[0])
                continue
            self._staged.setdefault(partition, []).extend(tables)

    def _write_staged(self) -> None:
        """One file per partition of everything staged, and the labels queued."""
        labels, self._held_labels = self._held_labels, []
        upto = self._staged_upto
        staged, self._staged = self._staged, {}
        for partition, tables in sorted(staged.items()):
            for table in rows.combined(tables):
                try:
                    self.storage.write_table(partition.folder(), schema.segment_name(), table,
                                             compression=self.compression)
                    self._written += table.num_rows
                except Exception as exc:
                    self._note_failure(table.num_rows, exc, what=f"row(s) of {partition}")
        self._write_labels(labels)
        with self._done_cond:
            self._handled = upto
            self._done_cond.notify_all()

    def _write_labels(self, labels: list[tuple[str, dict[str, Any]]]) -> None:
        """One file per deployment and date for all the labels of this flush."""
        by_deployment: dict[str, list[dict[str, Any]]] = {}
        for deployment, label in labels:
            by_deployment.setdefault(deployment, []).append(label)
        for deployment, labelled in sorted(by_deployment.items()):
            try:
                self._labelled += write_feedback_rows(self.storage, deployment, labelled)
            except Exception as exc:
                self._note_failure(len(labelled), exc, what=f"label(s) of {deployment}")

    def _salt_for(self, batch: list[LoggedPrediction]) -> bytes | None:
        if self._salt is None and any(p.extra.get("hashed") for p in batch):
            self._salt = schema.load_or_create_salt(self.storage)
        return self._salt

    def _note_failure(
        self, count: int, exc: Exception, prediction: LoggedPrediction | None = None,
        what: str = "prediction(s)",
    ) -> None:
        self._failed += count
        where = ""
        if prediction is not None:
            where = f"request {prediction.request_id} of {prediction.deployment}: "
        self.last_error = f"{where}{type(exc).__name__}: {exc}"
        logger.warning("inference log at %s: could not write %d %s: %s",
                       self.root, count, what, self.last_error)

