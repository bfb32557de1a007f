"""Registry's tables on the shared MetaData. Changed only together with a migration."""

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

registered_models = Table(
    "registered_models",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("description", Text, nullable=False),
    Column("policy", Text),  # promotion gates, YAML as the user wrote it
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("project", String(100), nullable=False, server_default="default"),
    Index("ix_registered_models_project", "project"),
)

registered_model_tags = Table(
    "registered_model_tags",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(["name"], ["registered_models.name"], ondelete="CASCADE"),
)

model_versions = Table(
    "model_versions",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(20), nullable=False),  # READY | ARCHIVED | DELETED | PURGED
    Column("description", Text, nullable=False),
    Column("source", String(1000), nullable=False),
    Column("run_id", String(64)),
    Column("package_digest", String(80), nullable=False),  # blob digest of the file manifest
    Column("manifest_digest", String(80), nullable=False),  # digest of gannet-model.yaml
    Column("flavor", String(50), nullable=False),
    Column("signature", Text),  # the model's input/output signature (JSON)
    Column("signing_key_id", String(64)),
    Column("package_signature", String(200)),  # ed25519 over manifest_digest, base64
    Column("git_commit", String(64)),
    Column("metrics", Text, nullable=False),  # JSON snapshot of the run's metrics
    Column("card", Text, nullable=False),  # JSON: editable model card fields
    Column("user_id", String(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    ForeignKeyConstraint(["name"], ["registered_models.name"], ondelete="CASCADE"),
    Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)

model_aliases = Table(
    "model_aliases",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(256), nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)

model_approvals = Table(
    "model_approvals",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("user_id", String(256), primary_key=True),
    Column("roles", Text, nullable=False),  # the approver's roles at approval time, comma-separated
    Column("comment", Text, nullable=False),
    Column("time", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)

# Packages of a registered model deleted as a whole (its version rows are gone): garbage
# collection keeps their blobs until the deletion is older than its grace period.
deleted_packages = Table(
    "deleted_packages",
    METADATA,
    Column("package_digest", String(80), primary_key=True),
    Column("deleted_time", BigInteger, primary_key=True),
)

# Responsible-AI reports of a version (its explanation, its fairness results): the numbers
# as JSON, plots as blobs (``plot_digests``: JSON format -> blob digest). The latest of each
# kind is kept; computing one again replaces it.
model_version_reports = Table(
    "model_version_reports",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(20), primary_key=True),  # explanation | fairness
    Column("report", Text, nullable=False),  # JSON
    Column("plot_digests", Text, nullable=False),  # JSON: {"html": digest} (PNG: drawn when asked)
    Column("data_source", Text, nullable=False),  # the dataset reference or file it used
    Column("user_id", String(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["name", "version"], ["model_versions.name", "model_versions.version"], ondelete="CASCADE"
    ),
)
