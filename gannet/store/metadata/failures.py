"""What a database exception means for the user: the Gannet error that says what is wrong
with the metadata store and what to do about it.

``translate`` reads the driver's own classification (SQLite's result code, PostgreSQL's
SQLSTATE) rather than message text where it can. The kinds:

- ``StoreLocked``: another writer held a lock for longer than ``lock_timeout``;
- ``StoreError``: the store cannot be used now (unreachable, full, read-only, damaged, not
  at Gannet's schema) — whatever is waiting to be written should wait, not be dropped;
- ``Conflict``: another transaction wrote the same thing at the same moment;
- ``InvalidArgument``: the store refused a value (a constraint, a type, a range);
- ``GannetError``: anything else, which is a bug in Gannet.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from gannet.core.errors import (
    Conflict,
    GannetError,
    InvalidArgument,
    StoreError,
    StoreLocked,
)

# SQLite primary result codes (https://sqlite.org/rescode.html)
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_TOOBIG = 11, 13, 14, 18
SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_NOTADB = 19, 20, 26
SQLITE_UNIQUE = {1555, 2067}  # SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
# PostgreSQL SQLSTATE classes whose errors mean "this value is refused"
PG_REFUSED = ("22", "23", "P0", "42804", "54000")
PG_UNREACHABLE = ("08", "57P01", "57P02", "57P03", "28", "3D000")


def translate(
    exc: sa.exc.SQLAlchemyError, url: str, sqlite_file: Path | None, lock_timeout: float
) -> GannetError:
    """The Gannet error for ``exc``, raised by the store at ``url`` (``sqlite_file``: its
    database file when it is a SQLite file; ``lock_timeout``: how long a lock is waited
    for)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        if isinstance(exc, sa.exc.TimeoutError):
            return StoreError(
                f"no connection to the metadata store {url} became free in time",
                "fewer threads or processes at once, or a larger pool",
            )
        return _bug(url, exc)
    if _is_locked(exc):
        return StoreLocked(
            f"the metadata store {url} is locked by another writer "
            f"(waited {lock_timeout:g} s)",
            "wait for the other process to finish, or raise GANNET_LOCK_TIMEOUT",
        )
    if url.startswith("sqlite"):
        return _sqlite(exc, url, sqlite_file)
    return _postgresql(exc, url)


def _is_locked(exc: sa.exc.DBAPIError) -> bool:
    """Another writer held a lock longer than we wait (SQLite busy/locked, PostgreSQL's
    lock_timeout)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED):
        return True
    text = str(exc.orig).lower()
    return getattr(exc.orig, "sqlstate", None) == "55P03" or any(
        word in text for word in ("database is locked", "lock timeout", "is busy")
    )


def refused(url: str, exc: BaseException) -> InvalidArgument:
    """A value the store (or its driver) cannot hold."""
    detail = _first_line(getattr(exc, "orig", None) or exc)
    return InvalidArgument(
        f"the metadata store {url} refused a value: {detail}",
        "change or leave out that value (docs/tracking.md lists what each value may be)",
    )


def sqlite_file_error(path: Path, exc: BaseException | None = None) -> StoreError:
    """The SQLite file cannot be opened or written: say whether it is read-only, and where."""
    folder = path.parent
    if not folder.is_dir():
        return StoreError(
            f"cannot open the metadata store {path}: its folder {folder} cannot be created"
            + (f" ({exc})" if exc else ""),
            "set GANNET_HOME (or GANNET_METADATA_URL) to a folder you can write",
        )
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    closed = [p for p in (folder, *files) if p.exists() and not os.access(p, os.W_OK)]
    if closed:
        return StoreError(
            f"the metadata store {path} is read-only: {closed[0]} cannot be written by this "
            "user (SQLite writes the database and its -wal and -shm files beside it)",
            f"make {closed[0]} writable for this user, or set GANNET_HOME to a folder you "
            "can write",
        )
    return StoreError(
        f"cannot open the metadata store {path}" + (f": {_first_line(exc)}" if exc else ""),
        f"check that {path} is a file this user can read and write",
    )


def _sqlite(exc: sa.exc.DBAPIError, url: str, path: Path | None) -> GannetError:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc.orig).lower()
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB) or "not a database" in text:
        return StoreError(
            f"the metadata store {url} is not a Gannet metadata database or is damaged "
            f"({exc.orig})",
            "restore it from a backup, or point GANNET_METADATA_URL (GANNET_HOME) elsewhere "
            "to start an empty store",
        )
    if primary == SQLITE_FULL:
        return StoreError(
            f"the metadata store {url} cannot grow: the disk is full",
            "free space on the disk holding it; what is waiting to be written is kept",
        )
    if primary in (SQLITE_READONLY, SQLITE_CANTOPEN) or "readonly" in text:
        return sqlite_file_error(path, exc.orig) if path else _unavailable(url, exc)
    if primary == SQLITE_IOERR:
        return StoreError(
            f"the metadata store {url} could not be read or written: {exc.orig}",
            "check the disk (space, errors) and that the file is on a local file system",
        )
    if primary == SQLITE_CONSTRAINT and code in SQLITE_UNIQUE:
        return _concurrent(url, exc)
    if primary in (SQLITE_CONSTRAINT, SQLITE_TOOBIG, SQLITE_MISMATCH) or isinstance(
        exc, sa.exc.IntegrityError | sa.exc.DataError
    ):
        return refused(url, exc)
    if "no such table" in text or "no such column" in text:
        return _schema(url, exc)
    if isinstance(exc, sa.exc.OperationalError):
        return _unavailable(url, exc)
    return _bug(url, exc)


def _postgresql(exc: sa.exc.DBAPIError, url: str) -> GannetError:
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state in ("40001", "40P01"):
        return Conflict(
            f"the metadata store {url} aborted a transaction that ran into another at the "
            f"same moment ({_first_line(exc.orig)})",
            "try again",
        )
    if state == "23505":
        return _concurrent(url, exc)
    if state.startswith(PG_REFUSED) or (not state and isinstance(exc, sa.exc.DataError)):
        return refused(url, exc)
    if state == "53100":
        return StoreError(
            f"the database server of {url} is out of disk space",
            "free disk space on the database server; what is waiting to be written is kept",
        )
    if state == "25006":
        return StoreError(
            f"the metadata store {url} is read-only ({_first_line(exc.orig)})",
            "point GANNET_METADATA_URL at the primary (writable) server",
        )
    if state == "42501":
        return StoreError(
            f"the database user of {url} may not do this: {_first_line(exc.orig)}",
            "grant that user the rights on Gannet's database, or connect as its owner",
        )
    if state in ("42P01", "42703"):
        return _schema(url, exc)
    if state.startswith(PG_UNREACHABLE) or isinstance(exc, sa.exc.OperationalError):
        return StoreError(
            f"cannot reach the metadata store {url}: {_first_line(exc.orig)}",
            "check that the database server runs and GANNET_METADATA_URL is right",
        )
    return _bug(url, exc)


def _concurrent(url: str, exc: sa.exc.DBAPIError) -> Conflict:
    return Conflict(
        f"the metadata store {url} already holds this (written by someone else at the same "
        f"moment): {_first_line(exc.orig)}",
        "read it again and retry",
    )


def _schema(url: str, exc: sa.exc.DBAPIError) -> StoreError:
    return StoreError(
        f"the metadata store {url} lacks part of Gannet's schema ({_first_line(exc.orig)})",
        "run `gannet db upgrade`; if it says the store is at head, the store is damaged",
    )


def _unavailable(url: str, exc: sa.exc.DBAPIError) -> StoreError:
    return StoreError(
        f"the metadata store {url} failed: {_first_line(exc.orig)}",
        "check the store (disk, permissions, server) and try again",
    )


def _bug(url: str, exc: BaseException) -> GannetError:
    return GannetError(
        f"the metadata store {url} answered an unexpected error: "
        f"{type(exc).__name__}: {_first_line(getattr(exc, 'orig', None) or exc)}",
        "this is a bug in Gannet: report it with the traceback (gannet --debug ...)",
    )


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
