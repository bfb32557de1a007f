"""Auth's tables on the shared MetaData. Changed only together with a migration."""

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from gannet.store.metadata.schema import METADATA, AutoId

user_roles = Table(
    "user_roles",
    METADATA,
    Column("user_id", String(256), primary_key=True),
    Column("role", String(100), primary_key=True),
    Column("granted_by", String(256), nullable=False),
    Column("granted_time", BigInteger, nullable=False),
)

# Append-only: who did what to which thing, when and why.
audit_log = Table(
    "audit_log",
    METADATA,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("time", BigInteger, nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(500), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Index("ix_audit_log_target_time", "target", "time"),
)
