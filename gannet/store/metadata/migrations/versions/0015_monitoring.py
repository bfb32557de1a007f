"""Monitoring: monitors, their reports as a time series, alert rules, states and events.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("reference_digest", sa.String(80), nullable=False),
        sa.Column("reference_source", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("watermark", sa.BigInteger),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("last_run_time", sa.BigInteger),
        sa.PrimaryKeyConstraint("name", name="pk_monitors"),
    )
    op.create_index("ix_monitors_deployment", "monitors", ["deployment"])
    op.create_table(
        "monitor_reports",
        sa.Column("monitor", sa.String(256), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("window_end", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("partial", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("drift_share", sa.Float),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("updated_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("monitor", "window_start", name="pk_monitor_reports"),
        sa.ForeignKeyConstraint(["monitor"], ["monitors.name"], ondelete="CASCADE",
                                name="fk_monitor_reports_monitor_monitors"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("updated_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_alert_rules"),
    )
    op.create_table(
        "alert_states",
        sa.Column("rule", sa.String(256), nullable=False),
        sa.Column("monitor", sa.String(256), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("breaches", sa.Integer, nullable=False),
        sa.Column("last_window", sa.BigInteger),
        sa.Column("since", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("last_notified", sa.BigInteger),
        sa.Column("silenced_until", sa.BigInteger),
        sa.PrimaryKeyConstraint("rule", "monitor", name="pk_alert_states"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(256), nullable=False),
        sa.Column("monitor", sa.String(256), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("delivery", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_time", "alert_events", ["time"])
