"""The feature store's tables on the shared MetaData. Changed only together with a migration."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from gannet.store.metadata.schema import METADATA

# Every registered version of every entity and feature view (the definition's JSON).
feature_definitions = Table(
    "feature_definitions",
    METADATA,
    Column("kind", String(20), primary_key=True),  # entity | feature_view
    Column("name", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Index("ix_feature_definitions_name", "name"),
)

# Per feature view: up to when its values were loaded into the online store.
feature_materializations = Table(
    "feature_materializations",
    METADATA,
    Column("view", String(128), primary_key=True),
    Column("materialized_until", BigInteger, nullable=False),  # epoch microseconds
    Column("newest_event_time", BigInteger),  # epoch microseconds of the newest value loaded
    Column("rows", BigInteger, nullable=False),  # rows written by the last materialization
    Column("finished_time", BigInteger, nullable=False),  # epoch milliseconds
)
