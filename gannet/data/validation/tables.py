"""Validation's table on the shared MetaData. Changed only together with a migration."""

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from gannet.store.metadata.schema import METADATA, AutoId

# One row per stored validation: the report is its JSON (no blobs are kept alive by it).
data_validations = Table(
    "data_validations",
    METADATA,
    Column("validation_id", AutoId, primary_key=True, autoincrement=True),
    Column("dataset", String(1000), nullable=False),  # a reference (churn@3) or a path
    Column("suite_digest", String(64), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("report", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("run_id", String(64)),
    Index("ix_data_validations_dataset", "dataset"),
    Index("ix_data_validations_run_id", "run_id"),
)
