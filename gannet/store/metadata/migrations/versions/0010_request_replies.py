"""The team server: answers kept for idempotent requests.

``request_replies`` holds one row per ``Idempotency-Key`` (scoped by the caller) that a
remote client sent with a POST: the request's fingerprint and, once answered, the status
and body given again to a retry of it.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_replies",
        sa.Column("reply_key", sa.String(300), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("reply_key", name="pk_request_replies"),
    )
    op.create_index("ix_request_replies_created_time", "request_replies", ["created_time"])
