"""Compaction and retention: the log's many small files become one file per hour.

Writers add a small file (a "segment", ``part-<ms>-<uuid>.parquet``) per partition per
flush: about 86,000 a day per version and worker. Once an hour is over (and ``grace`` has
passed, for late flushes and clocks apart), ``compact`` merges that hour's files of each
folder into one ``hour-<YYYYMMDDHH>-<ms>-<uuid>.parquet`` whose Parquet metadata lists
the files it holds (``gannet.covers``, transitively: what a merged file it took held).

Readers never see a row twice or miss one: a folder's visible files (``visible``) are
those no merged file covers, so a merged file replaces its parts the instant it appears
(it appears whole: ``LogStorage.write_table``). Covered files are deleted only ``keep``
later, so a reader that listed the folder before can still read them. Two compactions at
once (two replicas) can each write a merged file of one hour; the one covering more wins
and the other is ignored (its parts are all in the winner: a later compaction's listing
holds an earlier one's), then deleted like any covered file. Locally a lock file keeps
compactions of one log from overlapping at all.

Retention deletes whole date folders older than the retention period. ``LogCompactor``
runs both in the background of a server (its parent process, off the workers).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.serving.log.schema import FEEDBACK
from gannet.serving.log.storage import LogStorage

__all__ = [
    "COVERS", "CompactionReport", "LogCompactor", "compact", "log_folders", "visible",
]

logger = logging.getLogger(__name__)

COVERS = b"gannet.covers"
HOUR_MS = 3_600_000
DEFAULT_GRACE_MS = 5 * 60_000  # an hour is merged 5 minutes after it ended
DEFAULT_KEEP_MS = 10 * 60_000  # covered files go 10 minutes after their merge
LOCK_FILE = ".compaction.lock"

_COVER_CACHE: dict[tuple[str, str], frozenset[str]] = {}  # files never change: cache freely
_CACHE_LOCK = threading.Lock()


def _merged_name(hour: str, at_ms: int) -> str:
    return f"hour-{hour}-{at_ms:013d}-{uuid.uuid4().hex}.parquet"


def _hour(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y%m%d%H")


def _parse(name: str) -> tuple[str, str, int] | None:
    """(kind, hour, ms) of a log file name: kind ``part`` or ``hour``; None if foreign."""
    parts = name.removesuffix(".parquet").split("-")
    try:
        if parts[0] == "part" and len(parts) >= 3:
            ms = int(parts[1])
            return "part", _hour(ms), ms
        if parts[0] == "hour" and len(parts) >= 4:
            return "hour", parts[1], int(parts[2])
    except ValueError:
        return None
    return None


@dataclass
class Survey:
    """One folder's files and what covers what."""

    names: list[str]
    covers: dict[str, frozenset[str]]  # merged file -> files it holds
    visible: list[str]
    covered: set[str]  # held by a merged file that counts
    ignored: set[str]  # merged files that lost to a rival merge of the same files


def survey(storage: LogStorage, folder: str) -> Survey:
    names = storage.files(folder)
    covers = {n: _covers(storage, f"{folder}/{n}") for n in names if n.startswith("hour-")}
    covered: set[str] = set()
    ignored: set[str] = set()
    for name in sorted(covers, key=lambda n: (-len(covers[n]), n)):
        if name in covered:
            continue
        if covers[name] & covered:  # a rival merge of the same files: the larger one won
            ignored.add(name)
            continue
        covered |= covers[name]
    visible = [n for n in names if n not in covered and n not in ignored]
    return Survey(names, covers, visible, covered, ignored)


def visible(storage: LogStorage, folder: str) -> list[str]:
    """The files of ``folder`` a reader reads: every row once."""
    return survey(storage, folder).visible


def _covers(storage: LogStorage, relative: str) -> frozenset[str]:
    key = (storage.url, relative)
    with _CACHE_LOCK:
        found = _COVER_CACHE.get(key)
    if found is None:
        raw = storage.read_metadata(relative).get(COVERS, b"[]")
        found = frozenset(json.loads(raw))
        with _CACHE_LOCK:
            _COVER_CACHE[key] = found
    return found


def log_folders(storage: LogStorage, deployment: str | None = None) -> list[str]:
    """Every folder of files: predictions per deployment/version/date, feedback per
    deployment/date."""
    folders = []
    for d in storage.folders("", "deployment="):
        if deployment is not None and d != f"deployment={deployment}":
            continue
        for v in storage.folders(d, "version="):
            folders += [f"{d}/{v}/{date}" for date in storage.folders(f"{d}/{v}", "date=")]
    for d in storage.folders(FEEDBACK, "deployment="):
        if deployment is not None and d != f"deployment={deployment}":
            continue
        folders += [f"{FEEDBACK}/{d}/{date}" for date in storage.folders(f"{FEEDBACK}/{d}",
                                                                          "date=")]
    return folders


@dataclass
class CompactionReport:
    """What a compaction did (or, dry, would do)."""

    folders: int = 0
    files_before: int = 0
    files_after: int = 0
    merged: int = 0  # merged files written
    rows: int = 0  # rows in them
    deleted: int = 0  # covered files deleted
    expired: int = 0  # files deleted by retention
    skipped: list[str] = field(default_factory=list)  # hours that could not be merged, why

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def compact(
    storage: LogStorage,
    *,
    deployment: str | None = None,
    retention_days: float | None = None,
    at_ms: int | None = None,
    grace_ms: int = DEFAULT_GRACE_MS,
    keep_ms: int = DEFAULT_KEEP_MS,
) -> CompactionReport:
    """Merge every finished hour's files into one, delete what merges made redundant
    ``keep_ms`` ago, and date folders older than ``retention_days``."""
    if retention_days is not None and retention_days <= 0:
        raise InvalidArgument(f"retention must be more than 0 days, got {retention_days}")
    now = now_ms() if at_ms is None else at_ms
    report = CompactionReport()
    with _lock(storage) as locked:
        if not locked:
            report.skipped.append("another compaction of this log is running")
            return report
        for folder in log_folders(storage, deployment):
            report.folders += 1
            if _expired(folder, now, retention_days):
                names = storage.files(folder)
                report.files_before += len(names)
                report.expired += storage.delete(f"{folder}/{n}" for n in names)
                continue
            _compact_folder(storage, folder, now, grace_ms, keep_ms, report)
    return report


def _expired(folder: str, now: int, retention_days: float | None) -> bool:
    if retention_days is None:
        return False
    date = dt.date.fromisoformat(folder.rsplit("date=", 1)[1])
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), dt.UTC)
    return end.timestamp() * 1000 < now - retention_days * 86_400_000


def _compact_folder(storage: LogStorage, folder: str, now: int, grace_ms: int, keep_ms: int,
                    report: CompactionReport) -> None:
    found = survey(storage, folder)
    report.files_before += len(found.names)
    by_hour: dict[str, list[str]] = {}
    for name in found.visible:
        parsed = _parse(name)
        if parsed is not None:
            by_hour.setdefault(parsed[1], []).append(name)
    for hour, names in sorted(by_hour.items()):
        begun = dt.datetime.strptime(hour, "%Y%m%d%H").replace(tzinfo=dt.UTC).timestamp()
        if len(names) < 2 or now < begun * 1000 + HOUR_MS + grace_ms:  # not over yet
            continue
        try:
            rows = _merge(storage, folder, hour, names, found.covers, now)
        except (pa.ArrowException, OSError, ValueError) as exc:
            report.skipped.append(f"{folder} hour {hour}: {type(exc).__name__}: {exc}")
            logger.warning("inference log: could not merge %s hour %s: %s", folder, hour, exc)
            continue
        report.merged += 1
        report.rows += rows
    report.deleted += storage.delete(f"{folder}/{n}" for n in _deletable(found, now, keep_ms))
    report.files_after += len(storage.files(folder))


def _merge(storage: LogStorage, folder: str, hour: str, names: list[str],
           covers: dict[str, frozenset[str]], now: int) -> int:
    """Write the merge of ``names`` (one hour of ``folder``); how many rows it holds."""
    tables = [storage.read_table(f"{folder}/{n}") for n in names]
    table = pa.concat_tables(
        [t.replace_schema_metadata(None) for t in tables], promote_options="permissive")
    held = set(names)
    for name in names:
        held |= covers.get(name, frozenset())
    storage.write_table(folder, _merged_name(hour, now), table,
                        metadata={COVERS: json.dumps(sorted(held)).encode()})
    return table.num_rows


def _deletable(found: Survey, now: int, keep_ms: int) -> list[str]:
    """Covered files whose covering merge is older than ``keep_ms``: a reader that listed
    the folder before that merge appeared has had ``keep_ms`` to read them."""
    def settled(merged: str) -> bool:
        parsed = _parse(merged)
        return parsed is not None and now - parsed[2] >= keep_ms

    accepted = [m for m in found.covers if m not in found.covered]
    gone: set[str] = set()
    for merged in accepted:
        if settled(merged):
            gone |= found.covers[merged]
    for rival in found.ignored:  # held by winners: it goes once they have all settled
        winners = [m for m in accepted if found.covers[m] & found.covers[rival]]
        if settled(rival) and all(settled(m) for m in winners):
            gone.add(rival)
    return sorted(n for n in found.names if n in gone)


@contextmanager
def _lock(storage: LogStorage) -> Any:
    """Locally, one compaction per log at a time (False: another holds it)."""
    if not storage.local:
        yield True
        return
    import fcntl

    path = Path(storage.path(LOCK_FILE))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class LogCompactor:
    """``compact`` every ``every`` seconds until ``stop`` is set: ``compactor(stop)``.

    A server runs it in a child process of its own beside the workers (in a thread when it
    has one worker), so merging never holds a worker's interpreter."""

    def __init__(self, storage: LogStorage, *, every: float = 600.0,
                 retention_days: float | None = None) -> None:
        self.storage = storage
        self.every = every
        self.retention_days = retention_days
        self.last: CompactionReport | None = None

    def __call__(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            self.once()

    def once(self) -> CompactionReport | None:
        started = time.monotonic()
        try:
            self.last = compact(self.storage, retention_days=self.retention_days)
        except Exception:
            logger.exception("inference log compaction of %s failed", self.storage.url)
            return None
        logger.info("inference log %s compacted in %.1f s: %s", self.storage.url,
                    time.monotonic() - started, self.last.to_dict())
        return self.last
