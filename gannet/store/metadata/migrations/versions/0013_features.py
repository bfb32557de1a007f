"""Feature store: registered definitions (entities, feature views) and materializations.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_definitions",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", "version", name="pk_feature_definitions"),
    )
    op.create_index("ix_feature_definitions_name", "feature_definitions", ["name"])
    op.create_table(
        "feature_materializations",
        sa.Column("view", sa.String(128), nullable=False),
        sa.Column("materialized_until", sa.BigInteger, nullable=False),
        sa.Column("newest_event_time", sa.BigInteger),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("finished_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("view", name="pk_feature_materializations"),
    )


def downgrade() -> None:
    op.drop_table("feature_materializations")
    op.drop_index("ix_feature_definitions_name", table_name="feature_definitions")
    op.drop_table("feature_definitions")
