"""Continuous training: policies and their loop's state, decisions, the controller's lease.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_policies",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("phase", sa.String(30), nullable=False),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("applied_time", sa.BigInteger, nullable=False),
        sa.Column("updated_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_training_policies"),
    )
    op.create_table(
        "training_decisions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("numbers", sa.Text, nullable=False),
        sa.Column("cycle", sa.String(32)),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_decisions"),
    )
    op.create_index("ix_training_decisions_policy", "training_decisions", ["policy", "id"])
    op.create_table(
        "training_leases",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_time", sa.BigInteger, nullable=False),
        sa.Column("acquired_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_training_leases"),
    )


def downgrade() -> None:
    op.drop_table("training_leases")
    op.drop_index("ix_training_decisions_policy", "training_decisions")
    op.drop_table("training_decisions")
    op.drop_table("training_policies")
