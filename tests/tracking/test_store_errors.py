"""A locked, damaged, empty or read-only store, a newer schema, a buffer under pressure:
precise errors that say what to do, consistent stores."""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

import gannet
from gannet import GannetClient
from gannet.bootstrap import build
from gannet.client.buffer import LogBuffer
from gannet.core.errors import InvalidArgument, SchemaTooNew, StoreError, StoreLocked
from gannet.tracking.types import Pending, WriteReport


def test_a_store_locked_by_another_writer_gives_a_clear_error(tmp_path):
    settings = gannet.Settings.load(environ={}, cwd=tmp_path, home=tmp_path, lock_timeout=0.3)
    services = build(settings)
    eid = services.tracking.create_experiment("locked")
    db = sqlite3.connect(str(tmp_path / "gannet.db"), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        with pytest.raises(StoreLocked, match="locked by another writer.*GANNET_LOCK_TIMEOUT"):
            services.tracking.create_experiment("second")
        assert time.monotonic() - started >= 0.25  # it waited before giving up
        assert services.tracking.get_experiment(eid).name == "locked"  # readers still read
    finally:
        db.execute("ROLLBACK")
        db.close()
    services.tracking.create_experiment("second")  # and writes work again once released
    services.close()


def test_a_database_from_a_newer_gannet_is_refused_untouched(fresh_metadata_url, tmp_path):
    settings = gannet.Settings.load(
        environ={}, cwd=tmp_path, home=tmp_path, metadata_url=fresh_metadata_url
    )
    services = build(settings)
    services.tracking.create_experiment("kept")
    with services.metadata.write() as conn:
        conn.execute(sa.text("UPDATE gannet_alembic_version SET version_num = '9999'"))
    services.close()
    with pytest.raises(SchemaTooNew, match="'9999'.*newer.*upgrade Gannet"):
        build(settings)
    engine = sa.create_engine(fresh_metadata_url)
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM experiments")).scalars().all()
    engine.dispose()
    assert "kept" in names


def test_a_fast_producer_waits_for_the_store_instead_of_growing_memory(tmp_path):
    services = build(gannet.Settings.load(environ={}, cwd=tmp_path, home=tmp_path))
    run = services.tracking.create_run("0")

    def slow_store(pending):
        time.sleep(0.01)  # a store slower than the producer
        return services.tracking.write_pending(pending)

    buffer = LogBuffer(slow_store, capacity=1000, interval=10, batch=1000)
    high_water = 0
    for i in range(20_000):
        buffer.add((run.run_id, "k", float(i), 0, i))
        high_water = max(high_water, buffer.pending)
    buffer.flush()
    assert high_water <= 1000
    history = services.tracking.get_metric_history(run.run_id, "k")
    assert [m.step for m in history] == list(range(20_000))
    services.close()


def test_points_survive_a_locked_store_and_land_once_it_is_free(tmp_path):
    settings = gannet.Settings.load(environ={}, cwd=tmp_path, home=tmp_path, lock_timeout=0.2)
    services = build(settings)
    run = services.tracking.create_run("0")
    buffer = LogBuffer(services.tracking.write_pending, capacity=1000, interval=30)
    for i in range(10):
        buffer.add((run.run_id, "k", float(i), 0, i))
    db = sqlite3.connect(str(tmp_path / "gannet.db"), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreLocked):
            buffer.flush()
        assert buffer.pending == 10  # kept for the next attempt
    finally:
        db.execute("ROLLBACK")
        db.close()
    buffer.flush()
    assert len(services.tracking.get_metric_history(run.run_id, "k")) == 10
    services.close()


# -- a store that cannot be used: what a user sees ------------------------------------------


def _gannet(home: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The ``gannet`` command (a real process) on the store of ``home``."""
    command = [*prefix, sys.executable, "-m", "gannet", *args]
    return subprocess.run(command, env=_env(home), capture_output=True, text=True, timeout=120)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    return {**env, "GANNET_HOME": str(home), "NO_COLOR": "1"}


def _script(home: Path, code: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """A Python script (a real process) using the SDK on the store of ``home``."""
    return subprocess.run(
        [*prefix, sys.executable, "-c", code],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_damaged_database_file_is_named_with_what_to_do(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "gannet.db").write_bytes(b"this was a spreadsheet, not a database" * 200)
    done = _gannet(home, "runs", "list")
    assert done.returncode == 8, done.stderr
    assert "is not a Gannet metadata database or is damaged" in done.stderr
    assert "hint: restore it from a backup" in done.stderr
    assert "bug" not in done.stderr and "Traceback" not in done.stderr
    done = _script(home, "import gannet; gannet.set_experiment('x')")
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("gannet.core.errors.StoreError: the metadata store"), last
    assert "damaged" in last and "sqlite3" not in done.stderr.split("StoreError")[-1]


def test_an_empty_database_file_is_refused_not_started_afresh(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "gannet.db"
    db.touch()
    os.utime(db, (time.time() - 3600, time.time() - 3600))  # it lost its content an hour ago
    done = _gannet(home, "runs", "list")
    assert done.returncode == 8, done.stderr
    assert "is an empty file (0 bytes)" in done.stderr
    assert "restore gannet.db from a backup" in done.stderr
    assert db.stat().st_size == 0  # left as it was
    db.touch()  # a file just created (by another process starting the store) is new
    assert _gannet(home, "runs", "list").returncode == 0
    assert db.stat().st_size > 0


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("nonsense", 3, "metadata_url 'nonsense' is not a database URL"),
        ("postgresql+pg8000://me@localhost/x", 1, "needs a database driver that is not installed"),
    ],
    ids=["not-a-url", "no-driver"],
)
def test_a_metadata_url_that_cannot_work_says_why(tmp_path, url, status, says):
    done = _gannet(tmp_path, "--metadata-url", url, "runs", "list")
    assert (done.returncode, done.stdout) == (status, ""), done.stderr
    assert says in done.stderr and "bug" not in done.stderr


def _without_root_powers() -> tuple[str, ...]:
    """A command prefix under which file permissions apply to this user (root ignores them
    unless its capabilities to do so are dropped)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    caps = "-dac_override,-dac_read_search"
    return (setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}")


def test_a_read_only_home_says_it_is_read_only_and_where(tmp_path):
    home = tmp_path / "home"
    services = build(gannet.Settings.load(environ={}, cwd=tmp_path, home=home))
    services.tracking.create_experiment("kept")
    services.close()
    for path in home.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    home.chmod(0o555)
    try:
        done = _script(
            home, "import gannet; gannet.log_metric('x', 1.0)", prefix=_without_root_powers()
        )
    finally:
        home.chmod(0o755)
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("gannet.core.errors.StoreError"), done.stderr
    assert f"{home / 'gannet.db'} is read-only" in message
    assert f"{home} cannot be written by this user" in message
    assert "database server" not in message


def test_a_store_that_cannot_write_keeps_the_buffer_bounded_and_says_so(settings):
    client = GannetClient(settings.replace(lock_timeout=0.3, buffer_size=100, flush_interval=30))
    run = client.create_run("0")
    with _locked(settings.metadata_url, "metrics"):
        for i in range(99):
            client.log_metric(run.run_id, "m", float(i), step=i)  # buffered: nothing waits
        with pytest.raises(StoreLocked, match=r"is locked.*; 100 logged entries wait in memory"):
            client.log_metric(run.run_id, "m", 99.0, step=99)  # full: the producer must write
        full = r"is locked.*log buffer is full \(100 entries wait.*not kept"
        for i in range(100, 103):  # the store still cannot write: refused, not kept
            with pytest.raises(StoreLocked, match=full):
                client.log_metric(run.run_id, "m", float(i), step=i)
        assert client.buffer.pending == 100
    client.flush()  # everything acknowledged lands once the store is free
    assert [m.step for m in client.get_metric_history(run.run_id, "m")] == list(range(100))
    client.close()


@contextmanager
def _locked(url: str, table: str) -> Iterator[None]:
    """Another client holds the write lock of the store (SQLite) or of ``table`` (PostgreSQL)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
            conn.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def test_a_store_lost_while_a_refused_batch_is_split_keeps_the_rest_in_order():
    written: list[int] = []
    calls = 0

    def store(pending: Pending) -> WriteReport:  # refuses -1.0; unreachable at its 4th write
        nonlocal calls
        calls += 1
        if calls == 4:
            raise StoreError("cannot reach the metadata store db", "check the server")
        if any(value == -1.0 for _, _, value, _, _ in pending.points):
            raise InvalidArgument("the metadata store db refused a value: -1")
        written.extend(step for *_, step in pending.points)
        return WriteReport()

    buffer = LogBuffer(store, capacity=1000, interval=30)
    for i in range(20):
        buffer.add(("run", "k", -1.0 if i == 5 else float(i), 0, i))
    with pytest.raises(StoreError, match="cannot reach.*; 15 logged entries wait in memory"):
        buffer.flush()  # 0-4 landed; the store went away: the other 15 wait
    with pytest.raises(InvalidArgument, match=r"refused 1 logged entry.*metric 'k' of run run"):
        buffer.flush()  # back: all but the refused one land, in order, and that one is named
    assert written == [i for i in range(20) if i != 5]
    buffer.flush()  # reported once
