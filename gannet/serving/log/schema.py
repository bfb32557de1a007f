"""The inference log's on-disk format: where files go, what their rows hold, how values hide.

A format that outlives the code (see ARCHITECTURE.md). ``<root>`` is the
``inference_log_url`` setting: a folder or any fsspec URL (``s3://bucket/log``), shared by
every replica. Predictions are Parquet files at
``<root>/deployment=<d>/version=<v>/date=<YYYY-MM-DD>/part-<ms>-<uuid>.parquet`` (the date
of the prediction, UTC; one "segment" per writer per flush), merged once an hour is over
into ``hour-<YYYYMMDDHH>-<ms>-<uuid>.parquet`` whose metadata lists the files it holds
(``compaction``), one row per input row::

    request_id  string               the request's id (batch inference: "<batch id>-<chunk>")
    row         int32                the row's index within its request
    timestamp   timestamp[ms, UTC]   when the request was answered
    model       string               the registered model's name
    latency_ms  float64              the request's latency
    shadow      bool                 answered by a shadow version (never returned to the caller)
    input.<c>   one per input column (an ndarray's columns are input.0, input.1, ...)
    prediction  the output (a multi-output model: prediction.<name>, or a list per row)
    proba.<i>   class probabilities, when the model gave them

Feedback (ground truth that arrives later) lives at
``<root>/feedback/deployment=<d>/date=<YYYY-MM-DD>/part-*.parquet`` with ``request_id``,
``row`` (null: the label applies to every row of the request), ``label`` and ``timestamp``.

Files appear atomically (``storage``): locally under a hidden temporary name, synced,
then renamed; on an object store as one PUT. Readers only look at ``*.parquet`` files no
merged file holds. Files of one partition may differ in schema (new input columns, masked
ones); DuckDB reads them with ``union_by_name``.

Masked input columns are stored as ``"***"``; hashed ones as the hex blake3 digest of
salt + the value's text, so equal values hash equally (joins still work) while the
values stay unreadable. A null stays null.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3
import numpy as np
import pyarrow as pa

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.serving.log.types import LoggedPrediction

if TYPE_CHECKING:
    from gannet.core.settings import Settings
    from gannet.serving.log.storage import LogStorage

__all__ = [
    "FEEDBACK", "MASK", "SALT_FILE", "TIMESTAMP", "Partition", "check_deployment_name",
    "default_root", "feedback_table", "hash_value", "load_or_create_salt", "partition_of",
    "segment_name", "utc_date",
]

MASK = "***"
SALT_FILE = ".salt"
FEEDBACK = "feedback"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
TIMESTAMP = pa.timestamp("ms", tz="UTC")


def default_root(settings: Settings) -> str:
    """Where the log lives: the ``inference_log_url`` setting (``<home>/inference-log``, or
    any fsspec URL such as ``s3://bucket/inference-log``)."""
    url = settings.inference_log_url
    return url if "://" in url else str(Path(url).expanduser())


def segment_name(at_ms: int | None = None) -> str:
    """The name of a new segment file written at ``at_ms`` (now)."""
    return f"part-{(now_ms() if at_ms is None else at_ms):013d}-{uuid.uuid4().hex}.parquet"


@dataclass(frozen=True, order=True)
class Partition:
    deployment: str
    version: int
    date: str  # YYYY-MM-DD, UTC

    def folder(self) -> str:
        """Its folder, relative to the log's root."""
        return f"deployment={self.deployment}/version={self.version}/date={self.date}"


def check_deployment_name(name: str) -> str:
    """``name`` if it can be a folder name of the log, else InvalidArgument."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"{name!r} is not a valid deployment name for the inference log",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


def utc_date(timestamp_ms: int) -> str:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).strftime("%Y-%m-%d")


def partition_of(prediction: LoggedPrediction) -> Partition:
    return Partition(prediction.deployment, int(prediction.version),
                     utc_date(prediction.timestamp_ms))


def warm_up() -> None:
    """Do the imports the first write would (pyarrow loads pandas on its first conversion)."""
    pa.array(np.zeros(1))


# -- files ---------------------------------------------------------------------------------


def load_or_create_salt(storage: LogStorage) -> bytes:
    """The log's salt from ``<root>/.salt`` (mode 0600 locally), made once at random.

    Two processes starting at once agree on one salt (``LogStorage.write_bytes_once``).
    """
    salt = storage.write_bytes_once(SALT_FILE, secrets.token_bytes(32))
    if not salt:
        raise InvalidArgument(f"{storage.path(SALT_FILE)} is empty", hint="delete it to make a "
                              "new salt (hashes written with the old one will no longer match)")
    return salt


def hash_value(salt: bytes, value: Any) -> str | None:
    """The hex blake3 digest of salt + the value's text (bytes as they are); None stays None."""
    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return blake3.blake3(salt + data).hexdigest()


# -- feedback ------------------------------------------------------------------------------


def feedback_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Feedback rows (``request_id``, ``row``, ``label``, ``timestamp_ms``) as a table."""
    labels = [_label(r["label"]) for r in records]
    try:
        label_array = pa.array(labels)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        label_array = pa.array([str(v) for v in labels], pa.string())
    return pa.table({
        "request_id": pa.array([r["request_id"] for r in records], pa.string()),
        "row": pa.array([r.get("row") for r in records], pa.int32()),
        "label": label_array,
        "timestamp": pa.array([r["timestamp_ms"] for r in records], TIMESTAMP),
    })


def _label(value: Any) -> Any:
    if value is None:
        raise InvalidArgument("a feedback label cannot be None")
    item = getattr(value, "item", None)  # numpy scalars as Python values
    return item() if callable(item) and np.ndim(value) == 0 else value
