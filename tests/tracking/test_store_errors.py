"""A locked store, a newer schema, a buffer under pressure: precise errors, consistent stores."""

import sqlite3
import time

import pytest
import sqlalchemy as sa

import gannet
from gannet.bootstrap import build
from gannet.client.buffer import LogBuffer
from gannet.core.errors import SchemaTooNew, StoreLocked


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
