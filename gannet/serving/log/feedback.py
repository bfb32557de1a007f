"""Feedback: the ground truth of logged requests, recorded when it arrives.

A label is for a whole request (``row`` None) or one row of it, found by request id.
Labels are appended as Parquet files, one per date, at
``<root>/feedback/deployment=<d>/date=<YYYY-MM-DD>/`` (see ``schema``); readers take the
latest label given, a row's over its request's. ``check_feedback`` refuses a label that
could not be written; ``write_feedback_rows`` writes checked ones - ``InferenceLog``
right away, the server's ``InferenceLogWriter`` in batches from its background thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.serving.log import schema
from gannet.serving.log.storage import LogStorage

__all__ = ["MAX_ROW", "check_feedback", "write_feedback", "write_feedback_rows"]

MAX_ROW = 2**31 - 1  # the ``row`` column is int32


def write_feedback(storage: LogStorage, deployment: str,
                   records: Iterable[Mapping[str, Any]]) -> int:
    """Labels (mappings with ``request_id``, ``label``, optional ``row`` and ``timestamp``)
    written as one file per date; how many were written. Nothing is written when one of
    them is wrong."""
    schema.check_deployment_name(deployment)
    return write_feedback_rows(storage, deployment, [check_feedback(r) for r in records])


def write_feedback_rows(storage: LogStorage, deployment: str,
                        rows: Iterable[dict[str, Any]]) -> int:
    """Labels checked by ``check_feedback``, written as one file per date; how many."""
    by_date: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_date.setdefault(schema.utc_date(row["timestamp_ms"]), []).append(row)
    folder = f"{schema.FEEDBACK}/deployment={deployment}"
    for date, labels in sorted(by_date.items()):
        storage.write_table(f"{folder}/date={date}", schema.segment_name(),
                            schema.feedback_table(labels))
    return sum(len(labels) for labels in by_date.values())


def check_feedback(record: Mapping[str, Any]) -> dict[str, Any]:
    """One label as it is written (``request_id``, ``row``, ``label``, ``timestamp_ms``),
    or InvalidArgument saying what is wrong with it."""
    request_id = record.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise InvalidArgument(f"feedback needs a request id (a non-empty string), got "
                              f"{request_id!r}")
    row = record.get("row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or
                            not 0 <= row <= MAX_ROW):
        raise InvalidArgument(f"feedback row must be a row index (0 to {MAX_ROW}) or None, "
                              f"got {row!r}")
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
