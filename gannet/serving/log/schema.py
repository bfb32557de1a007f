"""The inference log's on-disk format: where files go, what their rows hold, how values hide.

A format that outlives the code (see ARCHITECTURE.md). Predictions are Parquet files at
``<root>/deployment=<d>/version=<v>/date=<YYYY-MM-DD>/part-<ms>-<uuid>.parquet`` (the date
of the prediction, UTC), one row per input row::

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

Files appear atomically: each is written under a hidden temporary name (``.part-*.tmp``)
in its own folder, synced, then renamed; readers only look at ``*.parquet``. Files of
one partition may differ in schema (new input columns, masked ones); DuckDB reads them
with ``union_by_name``.

Masked input columns are stored as ``"***"``; hashed ones as the hex blake3 digest of
salt + the value's text, so equal values hash equally (joins still work) while the
values stay unreadable. A null stays null.
"""

from __future__ import annotations

import datetime as dt
import os
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
import pyarrow.parquet as pq

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.serving.log.types import LoggedPrediction

if TYPE_CHECKING:
    from gannet.core.settings import Settings

__all__ = [
    "FEEDBACK", "MASK", "SALT_FILE", "TEMP_SUFFIX", "TIMESTAMP", "Partition",
    "check_deployment_name", "default_root", "feedback_table", "hash_value",
    "load_or_create_salt", "partition_of", "utc_date", "write_atomically",
]

MASK = "***"
SALT_FILE = ".salt"
FEEDBACK = "feedback"
TEMP_SUFFIX = ".tmp"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
TIMESTAMP = pa.timestamp("ms", tz="UTC")


def default_root(settings: Settings) -> Path:
    """Where the log lives: the ``inference_log_url`` setting (``<home>/inference-log``)."""
    return Path(settings.inference_log_url).expanduser()


@dataclass(frozen=True, order=True)
class Partition:
    deployment: str
    version: int
    date: str  # YYYY-MM-DD, UTC

    def folder(self, root: Path) -> Path:
        return (root / f"deployment={self.deployment}" / f"version={self.version}"
                / f"date={self.date}")


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


def write_atomically(table: pa.Table, folder: Path, *, compression: str | None = "zstd") -> Path:
    """``table`` as a new ``part-<ms>-<uuid>.parquet`` in ``folder``: temp name, fsync, rename."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{now_ms():013d}-{uuid.uuid4().hex}.parquet"
    temp = folder / f".{name}{TEMP_SUFFIX}"
    try:
        with open(temp, "wb") as stream:
            pq.write_table(table, stream, compression=compression or "none")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, folder / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return folder / name


def load_or_create_salt(root: Path) -> bytes:
    """The log's salt from ``<root>/.salt`` (mode 0600), made once at random when missing.

    Made under a temporary name and hard-linked into place, so two processes starting at
    once agree on one salt and nobody reads a half-written file.
    """
    path = root / SALT_FILE
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        temp = root / f"{SALT_FILE}.{uuid.uuid4().hex}{TEMP_SUFFIX}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(secrets.token_bytes(32))
                stream.flush()
                os.fsync(stream.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temp.unlink(missing_ok=True)
    salt = path.read_bytes()
    if not salt:
        raise InvalidArgument(f"{path} is empty", hint="delete it to make a new salt (hashes "
                              "written with the old one will no longer match)")
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
