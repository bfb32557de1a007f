"""Pipelines: runs of pipelines, their steps, the step cache, schedules and their firings.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("pipeline", sa.String(250), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("executor", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("schedule_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_pipeline_runs"),
    )
    op.create_index("ix_pipeline_runs_pipeline", "pipeline_runs", ["pipeline", "start_time"])
    op.create_table(
        "pipeline_steps",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("step", sa.String(250), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False),
        sa.Column("step_run_id", sa.String(32), nullable=True),
        sa.Column("cache_key", sa.String(64), nullable=True),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("traceback", sa.Text, nullable=True),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step", name="pk_pipeline_steps"),
    )
    op.create_table(
        "pipeline_cache",
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("step_run_id", sa.String(32), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("cache_key", name="pk_pipeline_cache"),
    )
    op.create_table(
        "pipeline_schedules",
        sa.Column("schedule_id", sa.String(32), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("cron", sa.String(100), nullable=True),
        sa.Column("dataset", sa.String(250), nullable=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("executor", sa.String(50), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", name="pk_pipeline_schedules"),
    )
    op.create_table(
        "pipeline_schedule_firings",
        sa.Column("schedule_id", sa.String(32), nullable=False),
        sa.Column("window_time", sa.BigInteger, nullable=False),
        sa.Column("fired_time", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "window_time", name="pk_pipeline_schedule_firings"),
    )


def downgrade() -> None:
    for table in ("pipeline_schedule_firings", "pipeline_schedules", "pipeline_cache",
                  "pipeline_steps"):
        op.drop_table(table)
    op.drop_index("ix_pipeline_runs_pipeline", table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
