"""Tracking: the batches remote clients wrote, so that a retried batch lands once.

``written_batches`` holds one row per batch of metrics, params and tags a client sent
through the team server, keyed by the id the client chose, written in the same
transaction as the batch; its ``report`` is the answer the server gave, given again to a
retry.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "written_batches",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_written_batches"),
    )
    op.create_index("ix_written_batches_created_time", "written_batches", ["created_time"])
