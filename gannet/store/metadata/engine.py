"""Opening the metadata store: engines, transactions, migrations, and errors that say what to do.

SQLite runs in WAL mode (readers never block the writer) and every write transaction
starts with ``BEGIN IMMEDIATE``, so two writers queue on the lock for up to
``lock_timeout`` seconds instead of failing half-way through. PostgreSQL is used as is;
``transaction`` runs a unit of work again when PostgreSQL aborts it as a serialisation
failure or a deadlock.

No SQLAlchemy or driver exception leaves this module: each becomes the Gannet error that
says what is wrong with the store and what to do (``failures``), e.g. a ``StoreError`` for
a damaged, full or read-only store, ``InvalidArgument`` for a value the store refuses.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from gannet.core.errors import Conflict, NotSupported, SchemaTooNew, SettingsError, StoreError
from gannet.store.metadata import failures, migrations

T = TypeVar("T")
# A SQLite file of 0 bytes younger than this is one another process is creating; older,
# it is a store that lost its content (a truncated copy, a full disk) and is refused.
NEW_FILE_SECONDS = 10.0
RETRIED_SQLSTATES = frozenset({"40001", "40P01"})  # serialisation failure, deadlock

VERSION_TABLE = migrations.VERSION_TABLE


class MetadataStore:
    """One SQL database holding every capability's rows.

    The constructor only remembers its arguments; ``open`` connects and ``upgrade``
    migrates (both explicit, so tests and tools decide when I/O happens).
    """

    def __init__(
        self, url: str, *, lock_timeout: float = 30.0, create_folder: bool = True,
        source: str = "metadata_url",
    ) -> None:
        self.url = _normalise_url(url)
        self.lock_timeout = lock_timeout
        self.create_folder = create_folder  # a SQLite file's folder; else it must exist
        self.source = source  # where the URL came from, for errors
        self._engine: Engine | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self.open()
        assert self._engine is not None
        return self._engine

    def open(self) -> MetadataStore:
        if self._engine is not None:
            return self
        try:
            url = make_url(self.url)
        except sa.exc.ArgumentError as exc:
            raise SettingsError(
                f"metadata_url {self.url!r} is not a database URL",
                "use sqlite:///<path> or postgresql://user@host/database (GANNET_METADATA_URL)",
            ) from exc
        with self._translate_errors(), _driver_needed(self.display_url):
            if self.is_sqlite:
                if url.database and url.database != ":memory:":
                    self._check_sqlite_file(Path(url.database).expanduser())
                engine = sa.create_engine(
                    url,
                    connect_args={"timeout": self.lock_timeout, "check_same_thread": False},
                )
                _configure_sqlite(engine, self.lock_timeout)
            else:
                engine = sa.create_engine(
                    url,
                    pool_pre_ping=True,
                    connect_args={"options": f"-c lock_timeout={int(self.lock_timeout * 1000)}"},
                )
        self._engine = engine
        return self

    def _check_sqlite_file(self, path: Path) -> None:
        """Make the store's folder; refuse a database file that lost its content (0 bytes,
        and not one another process is creating right now: SQLite would silently start
        it afresh, empty)."""
        if not self.create_folder and not path.parent.is_dir():
            raise SettingsError(
                f"{self.source} {self.display_url} names the folder {path.parent}, which "
                + ("is a file" if path.parent.exists() else "does not exist"),
                f"create the folder first (mkdir -p {path.parent}) or correct the URL: "
                "Gannet makes only its home's folders",
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stat = path.stat() if path.exists() else None
        except OSError as exc:
            raise failures.sqlite_file_error(path, exc) from exc
        age = time.time() - stat.st_mtime if stat is not None else 0.0
        if stat is not None and stat.st_size == 0 and age > NEW_FILE_SECONDS:
            raise StoreError(
                f"the metadata store {path} is an empty file (0 bytes): it lost its content, "
                "or was never a Gannet database",
                f"restore {path.name} from a backup; to start an empty store instead, "
                "delete the empty file",
            )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def ping(self) -> None:
        """Ask the database something trivial (readiness probes); raises ``StoreError``."""
        with self.read() as conn:
            conn.exec_driver_sql("SELECT 1")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (a consistent snapshot)."""
        with self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction: all of it lands, or none of it."""
        with self._translate_errors(), self.engine.connect() as conn:
            conn.execution_options(gannet_write=True)
            with conn.begin():
                yield conn

    def transaction(self, work: Callable[[Connection], T], *, attempts: int = 4) -> T:
        """``work(conn)`` in a write transaction, run again (after a short random pause, up
        to ``attempts`` times in all) when PostgreSQL aborts it as a serialisation failure
        or a deadlock (SQLSTATE 40001, 40P01). ``work`` must do nothing but database work,
        as it may run more than once."""
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as conn:
                    return work(conn)
            except Conflict as exc:
                cause = getattr(exc.__cause__, "orig", None)
                if getattr(cause, "sqlstate", None) not in RETRIED_SQLSTATES or (
                    attempt == attempts
                ):
                    raise
            time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- schema -----------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the database is at (None for an empty database)."""
        with self.read() as conn:
            return _current_revision(conn)

    def upgrade(self) -> None:
        """Bring the schema to this Gannet's head revision; refuse a newer database."""
        if self._check_revision(self.revision()):
            return
        from alembic import command
        from alembic.config import Config

        with self.write() as conn:
            if not self.is_sqlite:  # one migrator at a time across processes
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
            if self._check_revision(_current_revision(conn)):
                return  # another process migrated while we waited for the lock
            config = Config()
            config.set_main_option("script_location", str(Path(migrations.__file__).parent))
            config.attributes.update(
                connection=conn, version_table=VERSION_TABLE, sqlite=self.is_sqlite
            )
            command.upgrade(config, "head")

    def _check_revision(self, current: str | None) -> bool:
        """True when already at head; raises when the database is newer than this code."""
        if current == migrations.HEAD:
            return True
        if current is not None and current not in migrations.REVISIONS:
            raise SchemaTooNew(
                f"the metadata store {self.display_url} has schema revision {current!r}, "
                f"newer than this Gannet knows (it knows up to {migrations.HEAD!r})",
                "upgrade Gannet (pip install -U gannet) to use this store; "
                "nothing was changed in it",
            )
        return False

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        """Turn every database exception into the Gannet error that says what to do."""
        try:
            yield
        except sa.exc.SQLAlchemyError as exc:
            raise failures.translate(
                exc, self.display_url, _sqlite_path(self.url), self.lock_timeout
            ) from exc
        except (OverflowError, UnicodeEncodeError) as exc:  # a driver binding a value
            raise failures.refused(self.display_url, exc) from exc


@contextmanager
def _driver_needed(url: str) -> Iterator[None]:
    """An engine whose database driver (or dialect) is not installed says which to install."""
    try:
        yield
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise NotSupported(
            f"the metadata store {url} needs a database driver that is not installed ({exc})",
            "for PostgreSQL: pip install 'gannet-mlops[postgres]' (psycopg 3)",
        ) from exc


def _sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database).expanduser() if database and database != ":memory:" else None


def _current_revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return rows[0] if rows else None


def _normalise_url(url: str) -> str:
    """Accept the URLs people type: postgresql:// and postgres:// mean psycopg 3."""
    url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    return url


def _configure_sqlite(engine: Engine, lock_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("gannet_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
