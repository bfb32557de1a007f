"""Registry (models, versions, tags, aliases, approvals) and auth (roles, audit log).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        ondelete="CASCADE",
        name=f"fk_{table}_name_model_versions",
    )


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["name"], ["registered_models.name"], ondelete="CASCADE",
        name=f"fk_{table}_name_registered_models",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("policy", sa.Text),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name="pk_registered_model_tags"),
        _model_fk("registered_model_tags"),
    )
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("package_digest", sa.String(80), nullable=False),
        sa.Column("manifest_digest", sa.String(80), nullable=False),
        sa.Column("flavor", sa.String(50), nullable=False),
        sa.Column("signature", sa.Text),
        sa.Column("signing_key_id", sa.String(64)),
        sa.Column("package_signature", sa.String(200)),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
        _model_fk("model_versions"),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", "key", name="pk_model_version_tags"),
        _version_fk("model_version_tags"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("updated_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_model_aliases"),
        _version_fk("model_aliases"),
    )
    op.create_table(
        "model_approvals",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", "user_id", name="pk_model_approvals"),
        _version_fk("model_approvals"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("granted_by", sa.String(256), nullable=False),
        sa.Column("granted_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", AutoId, nullable=False, autoincrement=True),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_target_time", "audit_log", ["target", "time"])
