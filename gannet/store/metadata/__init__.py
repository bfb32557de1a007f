"""The SQL metadata store.

``schema.METADATA`` is the one SQLAlchemy ``MetaData`` all capability tables live on;
``MetadataStore`` opens an engine (SQLite in WAL mode or PostgreSQL), applies the
Alembic migrations in ``migrations/`` and hands out read and write connections.
"""

from gannet.store.metadata import dialect
from gannet.store.metadata.engine import MetadataStore
from gannet.store.metadata.schema import METADATA

__all__ = ["METADATA", "MetadataStore", "dialect"]
