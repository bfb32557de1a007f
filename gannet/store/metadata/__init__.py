"""The SQL metadata store.

- ``schema``: ``METADATA``, the one SQLAlchemy ``MetaData`` all capability tables live on
- ``engine``: ``MetadataStore`` opens an engine (SQLite in WAL mode or PostgreSQL), applies
  the Alembic ``migrations`` and hands out read and write connections (and transactions
  retried on serialisation failures)
- ``failures``: what each database exception means, as the Gannet error that says what to do
- ``dialect``: the upserts both backends understand
- ``migrations``: the schema's history, one Alembic revision per change
"""

from gannet.store.metadata import dialect
from gannet.store.metadata.engine import MetadataStore
from gannet.store.metadata.schema import METADATA

__all__ = ["METADATA", "MetadataStore", "dialect"]
