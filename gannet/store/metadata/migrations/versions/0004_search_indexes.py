"""Tracking: indexes for every default page and filter of a run search.

Runs by (experiment_id, lifecycle_stage, start_time, run_id) (the newest-first page, read
backwards, with its tie-breaker) replaces the index without run_id; runs by name; params
and tags by (key, value, run_id) (on PostgreSQL only values up to 2,000 bytes: a B-tree
entry holds ~2.7 kB at most, and a param or tag may be 6,000 or 8,000 characters).

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
    )
    for table in ("params", "tags"):
        op.create_index(
            f"ix_{table}_key_value_run_id", table, ["key", "value", "run_id"],
            postgresql_where=sa.text("octet_length(value) <= 2000"),
        )
