"""Data: small files of dataset versions stored together in pack blobs.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_packed",
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("pack", sa.String(80), nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_data_packed"),
    )
    op.create_index("ix_data_packed_pack", "data_packed", ["pack"])


def downgrade() -> None:
    op.drop_index("ix_data_packed_pack", table_name="data_packed")
    op.drop_table("data_packed")
