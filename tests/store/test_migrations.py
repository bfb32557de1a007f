"""The schema changes only through migrations, and the migrations build exactly the tables."""

import importlib
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import gannet
from gannet.store.metadata import METADATA, MetadataStore, migrations
from gannet.store.metadata.engine import VERSION_TABLE

# every capability's tables, found by name (a new capability cannot be forgotten here)
TABLE_MODULES = sorted(
    ".".join(("gannet", *path.relative_to(Path(gannet.__file__).parent).with_suffix("").parts))
    for path in Path(gannet.__file__).parent.rglob("tables.py"))
for module in TABLE_MODULES:
    importlib.import_module(module)


def test_known_revisions_are_the_migration_files():
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [migrations.HEAD]
    chain = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(chain) == migrations.REVISIONS


def test_migrated_database_matches_the_declared_tables(fresh_metadata_url):
    store = MetadataStore(fresh_metadata_url).open()
    assert store.revision() is None
    store.upgrade()
    assert store.revision() == migrations.HEAD
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, METADATA)
    store.close()
    assert differences == []


def test_upgrade_is_idempotent_and_sqlite_runs_in_wal_mode(tmp_path):
    store = MetadataStore(f"sqlite:///{tmp_path / 'g.db'}").open()
    store.upgrade()
    store.upgrade()
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        names = set(sa.inspect(conn).get_table_names())
    store.close()
    assert {"experiments", "runs", "params", "tags", "metrics", "latest_metrics"} <= names
