"""Serving's tables on the shared MetaData. Changed only together with a migration.

A deployment is one row naming its model and its current revision; every change appends
a revision (append-only history) whose ``state`` is JSON of one versioned shape (see
``repository``). ``DeploymentService.get_deployment_state`` joins the two on their
primary keys, so what a polling server asks every second is two index lookups.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gannet.store.metadata.schema import METADATA

deployments = Table(
    "deployments",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("model", String(256), nullable=False),  # a registered model's name (no FK: see docs)
    Column("description", Text, nullable=False),
    Column("current_revision", Integer, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("project", String(100), nullable=False, server_default="default"),
    Index("ix_deployments_model", "model"),
    Index("ix_deployments_project", "project"),
)

# Append-only: one row per change; rollback appends a copy of an earlier state.
deployment_revisions = Table(
    "deployment_revisions",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("state", Text, nullable=False),  # JSON: {"format": 1, "routes": [...], ...}
    Column("reason", Text, nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("time", BigInteger, nullable=False),
    ForeignKeyConstraint(["name"], ["deployments.name"], ondelete="CASCADE"),
)
