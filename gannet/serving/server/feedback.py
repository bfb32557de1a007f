"""``POST /feedback``: ground truth from callers, bounded before it reaches the log.

A body is ``{"request_id": str, "label": ..., "row"?: int}`` of at most
``DEFAULT_MAX_FEEDBACK_BYTES`` (64 KiB; ``--max-feedback-bytes``): over it is 413. A
body that is not that shape is 400 ``BadRequest``; fields over their size are 422
``InvalidInput``: a request id is what the server gives (at most 200 printable
characters), a label is a number, a bool, a string of at most ``MAX_LABEL_CHARS``
characters or a list of at most ``MAX_LABEL_ITEMS`` of those, a row is a row index. The
label is then handed to the log's ``feedback`` (the server's ``InferenceLogWriter``
queues it and writes labels in batches).
"""

from __future__ import annotations

from typing import Any

from gannet.core.errors import BadRequest, InvalidInput
from gannet.serving.log.feedback import MAX_ROW
from gannet.serving.server.request import MAX_REQUEST_ID, request_id

__all__ = ["DEFAULT_MAX_FEEDBACK_BYTES", "MAX_LABEL_CHARS", "MAX_LABEL_ITEMS",
           "feedback_fields"]

DEFAULT_MAX_FEEDBACK_BYTES = 64 * 1024
MAX_LABEL_CHARS = 1024
MAX_LABEL_ITEMS = 256
_SHAPE = "feedback is {'request_id': str, 'label': ..., 'row'?: int}"


def feedback_fields(doc: Any) -> tuple[str, Any, int | None]:
    """A ``/feedback`` body's request id, label and row (None: every row of the request)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("request_id"), str) or \
            doc.get("label") is None:
        raise BadRequest(_SHAPE)
    rid = doc["request_id"]
    if request_id(rid) is None:
        raise InvalidInput(f"'request_id' must be 1 to {MAX_REQUEST_ID} printable characters, "
                           f"got {len(rid)} characters",
                           "send the request id the prediction was answered with")
    label = doc["label"]
    _check_label(label)
    row = doc.get("row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
        raise BadRequest(f"'row' must be a non-negative integer, got {row!r}")
    if row is not None and row > MAX_ROW:
        raise InvalidInput(f"'row' must be a row index from 0 to {MAX_ROW}, got {row}")
    return rid, label, row


def _check_label(label: Any) -> None:
    if isinstance(label, list):
        if len(label) > MAX_LABEL_ITEMS:
            raise InvalidInput(f"the label is a list of {len(label)} items; at most "
                               f"{MAX_LABEL_ITEMS} are taken")
        for item in label:
            _check_scalar(item, "an item of the label")
    else:
        _check_scalar(label, "the label")


def _check_scalar(value: Any, what: str) -> None:
    if isinstance(value, str):
        if len(value) > MAX_LABEL_CHARS:
            raise InvalidInput(f"{what} has {len(value)} characters; at most "
                               f"{MAX_LABEL_CHARS} are taken")
    elif not isinstance(value, bool | int | float):
        raise InvalidInput(f"{what} is a {type(value).__name__}: a label is a number, a "
                           f"bool, a string or a list of those")
