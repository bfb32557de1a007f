"""Serving: deployments and their append-only revisions (routes, shadows, sticky key, log fields).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("current_revision", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_deployments"),
    )
    op.create_index("ix_deployments_model", "deployments", ["model"])
    op.create_table(
        "deployment_revisions",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", "revision", name="pk_deployment_revisions"),
        sa.ForeignKeyConstraint(
            ["name"], ["deployments.name"], ondelete="CASCADE",
            name="fk_deployment_revisions_name_deployments",
        ),
    )
