"""Garbage collection: when a run was deleted, write leases, packages of deleted models.

``runs.deleted_time`` says when a run was (soft) deleted, so ``gannet gc`` removes it for
good only after its grace period; runs deleted before this revision count as deleted now.
``blob_writes`` holds a row per writer storing blobs. ``deleted_packages`` keeps the
packages of registered models deleted as a whole until their grace period ends.

Revision ID: 0005
Revises: 0004
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("deleted_time", sa.BigInteger, nullable=True))
    now = int(time.time() * 1000)
    op.execute(
        sa.text("UPDATE runs SET deleted_time = :now WHERE lifecycle_stage = 'deleted'").bindparams(
            now=now
        )
    )
    op.create_table(
        "blob_writes",
        sa.Column("lease_id", sa.String(32), nullable=False),
        sa.Column("started_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("lease_id", name="pk_blob_writes"),
    )
    op.create_table(
        "deleted_packages",
        sa.Column("package_digest", sa.String(80), nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("package_digest", "deleted_time", name="pk_deleted_packages"),
    )
