"""Team mode: users, API tokens, projects and their members; what each thing belongs to.

``users`` (argon2 password hashes), ``api_tokens`` (SHA-256 of the secret only),
``projects`` and ``project_members`` (reader | editor | owner). Experiments, registered
models and deployments get a ``project`` column (indexed: listings filter by it); what
existed before belongs to the ``default`` project, which exists from here on.

Revision ID: 0006
Revises: 0005
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OWNED = ("experiments", "registered_models", "deployments")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("name", name="pk_users"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("expires", sa.BigInteger),
        sa.Column("revoked", sa.BigInteger),
        sa.Column("last_used", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.name"], ondelete="CASCADE",
                                name="fk_api_tokens_user_id_users"),
        sa.UniqueConstraint("secret_sha256", name="uq_api_tokens_secret_sha256"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "projects",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_projects"),
    )
    op.create_table(
        "project_members",
        sa.Column("project", sa.String(100), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("project", "user_id", name="pk_project_members"),
        sa.ForeignKeyConstraint(["project"], ["projects.name"], ondelete="CASCADE",
                                name="fk_project_members_project_projects"),
        sa.ForeignKeyConstraint(["user_id"], ["users.name"], ondelete="CASCADE",
                                name="fk_project_members_user_id_users"),
    )
    op.create_index("ix_project_members_user_id", "project_members", ["user_id"])
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("project", sa.String(100), nullable=False,
                                       server_default="default"))
        op.create_index(f"ix_{table}_project", table, ["project"])
    op.execute(
        sa.text("INSERT INTO projects (name, description, created) "
                "VALUES ('default', 'what belongs to no other project', :now)").bindparams(
            now=int(time.time() * 1000))
    )
