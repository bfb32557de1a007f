"""Writes that arrive from elsewhere: the batches a remote SDK's log buffer sends through
the team server.

Such a batch is checked entry by entry with the very rules ``log_metric``, ``log_param``
and ``set_tag`` apply before they buffer (a client's checks are never trusted), and it
carries an id chosen by its sender: ``TrackingService`` records the id in the batch's own
transaction, so a batch sent again (its answer was lost on the way back) is recognised,
written once, and answered with the first answer (kept here as JSON).
"""

from __future__ import annotations

import orjson

from gannet.core import wire
from gannet.core.errors import InvalidArgument
from gannet.tracking import validation
from gannet.tracking.types import KeyValue, Pending, Point, WriteReport

__all__ = ["BATCH_ID_LENGTH", "check_batch_id", "checked", "report_from_json", "report_json"]

BATCH_ID_LENGTH = 64
KEEP_BATCHES_MS = 24 * 3600 * 1000  # a retry comes within seconds; ids are kept a day


def check_batch_id(batch_id: object) -> str:
    if not isinstance(batch_id, str) or not 8 <= len(batch_id) <= BATCH_ID_LENGTH or not (
        batch_id.isascii() and batch_id.replace("-", "").isalnum()
    ):
        raise InvalidArgument(
            f"batch id {batch_id!r} is not 8 to {BATCH_ID_LENGTH} letters, digits or '-'",
            "send a new random id (e.g. a uuid4 hex) per batch, the same one on its retries",
        )
    return batch_id


def checked(pending: Pending) -> Pending:
    """``pending`` with every entry validated (and cleaned) as the SDK does before it
    buffers; the first entry that is wrong raises, naming it."""
    from gannet.tracking.service import TrackingService

    point = TrackingService.point
    points: list[Point] = [point(_run_id(r), k, v, t, s) for r, k, v, t, s in pending.points]
    params: list[KeyValue] = [
        (_run_id(r), validation.check_key(k, "param"), validation.param_text(k, v))
        for r, k, v in pending.params
    ]
    tags: list[KeyValue] = [
        (_run_id(r), validation.check_key(k, "tag"), validation.tag_text(k, v))
        for r, k, v in pending.tags
    ]
    for run_id, environment in pending.environments:
        _run_id(run_id)
        for key, value in environment.tags().items():
            validation.tag_text(key, value)
    return Pending(points, params, tags, list(pending.environments))


def _run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not run_id or len(run_id) > 64:
        raise InvalidArgument(f"{run_id!r} is not a run id", "use the id create_run returned")
    return run_id


def report_json(report: WriteReport) -> str:
    return wire.dumps(report).decode()


def report_from_json(text: str) -> WriteReport:
    if not text:
        return WriteReport()
    return wire.load(WriteReport, orjson.loads(text))
