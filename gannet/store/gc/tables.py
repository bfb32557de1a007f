"""Garbage collection's table on the shared MetaData. Changed only with a migration."""

from sqlalchemy import BigInteger, Column, String, Table

from gannet.store.metadata.schema import METADATA

# One row per writer storing blobs right now; removed when its records are committed.
blob_writes = Table(
    "blob_writes",
    METADATA,
    Column("lease_id", String(32), primary_key=True),
    Column("started_time", BigInteger, nullable=False),
)
