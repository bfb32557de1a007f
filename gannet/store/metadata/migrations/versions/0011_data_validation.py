"""Data validation: one row per stored validation report.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_validations",
        sa.Column("validation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(1000), nullable=False),
        sa.Column("suite_digest", sa.String(64), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.PrimaryKeyConstraint("validation_id", name="pk_data_validations"),
    )
    op.create_index("ix_data_validations_dataset", "data_validations", ["dataset"])
    op.create_index("ix_data_validations_run_id", "data_validations", ["run_id"])


def downgrade() -> None:
    op.drop_table("data_validations")
