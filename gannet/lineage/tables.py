"""The lineage graph's one table on the shared MetaData. Changed only with a migration."""

from sqlalchemy import BigInteger, Column, Index, String, Table, UniqueConstraint

from gannet.store.metadata.schema import METADATA, AutoId

# One row per edge "from was used by / produced to": (dataset_version churn@3) -> (run r1).
lineage_edges = Table(
    "lineage_edges",
    METADATA,
    Column("edge_id", AutoId, primary_key=True, autoincrement=True),
    Column("from_kind", String(40), nullable=False),
    Column("from_id", String(300), nullable=False),
    Column("to_kind", String(40), nullable=False),
    Column("to_id", String(300), nullable=False),
    Column("context", String(100), nullable=False),
    Column("at", BigInteger, nullable=False),
    UniqueConstraint("from_kind", "from_id", "to_kind", "to_id", "context"),
    Index("ix_lineage_edges_to", "to_kind", "to_id"),
)
