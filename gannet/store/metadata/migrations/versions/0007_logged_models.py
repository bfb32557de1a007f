"""Tracking: MLflow 3's logged models, with their tags, params and files.

An MLflow 3 client's ``log_model`` creates a "logged model" in the experiment, uploads
the MLflow model folder to it and marks it ready; registering makes a model version of it.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("source_run_id", sa.String(64)),
        sa.Column("model_type", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE",
            name="fk_logged_models_experiment_id_experiments",
        ),
    )
    op.create_index("ix_logged_models_experiment_id_creation_time", "logged_models",
                    ["experiment_id", "creation_time"])
    op.create_index("ix_logged_models_source_run_id", "logged_models", ["source_run_id"])
    for name in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            name,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{name}"),
            _model_fk(name),
        )
    op.create_table(
        "logged_model_files",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "path", name="pk_logged_model_files"),
        _model_fk("logged_model_files"),
    )
    op.create_index("ix_logged_model_files_digest", "logged_model_files", ["digest"])


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"], ["logged_models.model_id"], ondelete="CASCADE",
        name=f"fk_{table}_model_id_logged_models",
    )
