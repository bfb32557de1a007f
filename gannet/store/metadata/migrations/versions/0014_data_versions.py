"""Versioned datasets and the lineage graph.

``datasets`` is the catalogue (description, owner, keywords, column descriptions);
``dataset_versions`` one row per version (a manifest blob; deleted versions keep their
row so a number is never given twice); ``dataset_tags`` names versions (``churn@prod``).
``lineage_edges`` holds the graph every capability writes: (dataset_version churn@3) was
used by (run r1) in context ``training``.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
        sa.Column("keywords", sa.Text, nullable=False, server_default="[]"),
        sa.Column("column_descriptions", sa.Text, nullable=False, server_default="{}"),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_datasets"),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("manifest_digest", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("file_count", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("columns", sa.Text, nullable=False, server_default="[]"),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.Column("purged", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", "version", name="pk_dataset_versions"),
    )
    op.create_index(
        "ix_dataset_versions_creation_time", "dataset_versions", ["creation_time"]
    )
    op.create_table(
        "dataset_tags",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", "tag", name="pk_dataset_tags"),
    )
    op.create_table(
        "lineage_edges",
        sa.Column("edge_id", AutoId, nullable=False, autoincrement=True),
        sa.Column("from_kind", sa.String(40), nullable=False),
        sa.Column("from_id", sa.String(300), nullable=False),
        sa.Column("to_kind", sa.String(40), nullable=False),
        sa.Column("to_id", sa.String(300), nullable=False),
        sa.Column("context", sa.String(100), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("edge_id", name="pk_lineage_edges"),
        sa.UniqueConstraint(
            "from_kind", "from_id", "to_kind", "to_id", "context",
            name="uq_lineage_edges_from_kind_from_id_to_kind_to_id_context",
        ),
    )
    op.create_index("ix_lineage_edges_to", "lineage_edges", ["to_kind", "to_id"])


def downgrade() -> None:
    op.drop_table("lineage_edges")
    op.drop_table("dataset_tags")
    op.drop_index("ix_dataset_versions_creation_time", table_name="dataset_versions")
    op.drop_table("dataset_versions")
    op.drop_table("datasets")
