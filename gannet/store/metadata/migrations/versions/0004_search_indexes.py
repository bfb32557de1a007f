"""Tracking: indexes for every default page and filter of a run search.

Runs by (experiment_id, lifecycle_stage, start_time, run_id) (the newest-first page, read
backwards, with its tie-breaker) replaces the index without run_id; runs by name; params
and tags by (key, value, run_id) (on PostgreSQL only values up to 2,000 bytes: a B-tree
entry holds ~2.7 kB at most, and a param or tag may be 6,000 or 8,000 characters; the
longer ones by (key, run_id) in an index of their own).

On SQLite it also writes planner statistics (``sqlite_stat1``) describing a large store:
Gannet never runs ANALYZE, and without statistics SQLite assumes that an experiment holds
about ten runs, so it walks a whole experiment in time order rather than reading the few
runs a rare filter matches. These figures say "many runs per experiment, names and
(key, value) pairs far more selective"; a real ANALYZE replaces them.

On PostgreSQL it adds joint (key, value) statistics to params and tags, which ANALYZE fills.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_runs_experiment_id_lifecycle_stage_start_time", table_name="runs")
    op.create_index(
        "ix_runs_experiment_id_lifecycle_stage_start_time_run_id",
        "runs", ["experiment_id", "lifecycle_stage", "start_time", "run_id"],
    )
    op.create_index(
        "ix_runs_experiment_id_lifecycle_stage_name",
        "runs", ["experiment_id", "lifecycle_stage", "name"],
        postgresql_ops={"name": "varchar_pattern_ops"},  # LIKE 'prefix%' in any collation
        postgresql_include=["start_time", "run_id"],  # sorted without reading the rows
    )
    for table in ("params", "tags"):
        op.create_index(
            f"ix_{table}_key_value_run_id", table, ["key", "value", "run_id"],
            postgresql_where=sa.text("octet_length(value) <= 2000"),
            postgresql_ops={"value": "text_pattern_ops"},  # LIKE 'prefix%' in any collation
        )
        op.create_index(  # the rare longer values (none on SQLite, which needs no split)
            f"ix_{table}_key_run_id_long_values", table, ["key", "run_id"],
            postgresql_where=sa.text("octet_length(value) > 2000"),
            sqlite_where=sa.text("0"),
        )
    if op.get_bind().dialect.name == "sqlite":
        write_sqlite_statistics(op.get_bind())
    else:
        # key and value are far from independent (values like '3' belong to some keys
        # only): without a joint estimate the planner misjudges how far it must walk the
        # runs to fill a page, and hashes every run instead
        for table in ("params", "tags"):
            op.execute(f"CREATE STATISTICS st_{table}_key_value (mcv) ON key, value FROM {table}")


# (table, index, "rows, then rows per value of the first 1, 2, ... columns"), as ANALYZE
# would write them for a store of a million runs with a few experiments.
SQLITE_STATISTICS = (
    ("runs", "sqlite_autoindex_runs_1", "1000000 1"),
    ("runs", "ix_runs_experiment_id_lifecycle_stage_start_time_run_id", "1000000 100000 95000 1 1"),
    ("runs", "ix_runs_experiment_id_lifecycle_stage_name", "1000000 100000 95000 2"),
    ("runs", "ix_runs_parent_run_id", "1000000 1000"),
    ("params", "sqlite_autoindex_params_1", "5000000 5 1"),
    ("params", "ix_params_key_value_run_id", "5000000 50000 50 1"),
    ("tags", "sqlite_autoindex_tags_1", "2000000 2 1"),
    ("tags", "ix_tags_key_value_run_id", "2000000 50000 50 1"),
    ("latest_metrics", "sqlite_autoindex_latest_metrics_1", "5000000 5 1"),
    ("latest_metrics", "ix_latest_metrics_key_value", "5000000 50000 2"),
    ("metrics", "ix_metrics_run_id_key_step", "100000000 100 20 1"),
)


def write_sqlite_statistics(conn: sa.Connection) -> None:
    """Add the statistics of ``SQLITE_STATISTICS`` for indexes that have none (a store
    someone ANALYZEd keeps its own), and make the planner read them."""
    conn.exec_driver_sql("ANALYZE sqlite_master")  # creates sqlite_stat1 if missing
    known = {row[0] for row in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1")}
    missing = [row for row in SQLITE_STATISTICS if row[1] not in known]
    if missing:
        conn.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", missing)
    conn.exec_driver_sql("ANALYZE sqlite_master")  # reload them
