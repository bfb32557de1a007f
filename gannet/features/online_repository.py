"""The embedded online store: one SQLite file, one row per (view, entity key) holding the
newest values as a JSON array ``[event time (epoch us), value, ...]``.

Reads take one query for any number of entities (``IN``); writes keep a row only when it
is newer than the one stored, so a backfill never overwrites fresher values.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from gannet.core.errors import Unavailable

_SCHEMA = """CREATE TABLE IF NOT EXISTS online_values (
    view TEXT NOT NULL, entity_key TEXT NOT NULL, event_time INTEGER NOT NULL,
    payload BLOB NOT NULL, PRIMARY KEY (view, entity_key)) WITHOUT ROWID"""
_UPSERT = """INSERT INTO online_values (view, entity_key, event_time, payload)
    VALUES (?, ?, ?, ?) ON CONFLICT (view, entity_key) DO UPDATE SET
    event_time = excluded.event_time, payload = excluded.payload
    WHERE excluded.event_time >= online_values.event_time"""
_CHUNK = 900  # below SQLite's limit on bound parameters


class SqliteOnlineStore:
    """The online store in a SQLite file (embedded mode); one connection per thread, each
    kept in ``_opened`` too so that ``close`` closes them all (those of the server's
    threads included), not only the calling thread's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # used by this thread only; closed by whichever thread closes the store
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
                with self._lock:
                    self._opened.append(conn)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise Unavailable(f"the online store {self.path} cannot be opened: {exc}",
                                  "check the Gannet home is writable") from exc
            self._local.conn = conn
        return conn

    def write(self, view: str, keys: Sequence[str], times: Sequence[int],
              payloads: Sequence[bytes]) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_UPSERT, zip([view] * len(keys), keys, times, payloads,
                                          strict=True))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def read(self, view: str, keys: Sequence[str]) -> dict[str, bytes]:
        conn = self._conn()
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT entity_key, payload FROM online_values WHERE view = ? "
                    f"AND entity_key IN ({marks})", [view, *chunk]).fetchall()
                found.update(rows)
        except sqlite3.Error as exc:  # a damaged, locked or vanished file
            raise Unavailable(f"the online store {self.path} cannot be read: {exc}",
                              "materialize again (gannet features materialize), or check "
                              "the file") from exc
        return found

    def clear(self) -> None:
        """Remove every feature value."""
        self._conn().execute("DELETE FROM online_values")

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()
