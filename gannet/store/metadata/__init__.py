"""The SQL metadata store.

- ``schema``: ``METADATA``, the one SQLAlchemy ``MetaData`` all capability tables live on
- ``engine``: ``MetadataStore`` opens an engine (SQLite in WAL mode or PostgreSQL), applies
  the Alembic ``migrations`` and hands out read and write connections (and transactions
  retried on serialisation failures)
- ``failures``: what each database exception means, as the Gannet error that says what to do
- ``dialect``: the upserts both backends understand
- ``migrations``: the schema's history, one Alembic revision per change

Its names load on first use, so ``migrations.HEAD`` can be read without SQLAlchemy (an
unchanged ``gannet data add`` answers before it would have finished importing).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.store.metadata import dialect
    from gannet.store.metadata.engine import MetadataStore
    from gannet.store.metadata.schema import METADATA

__all__ = ["METADATA", "MetadataStore", "dialect"]

_HOMES = {"METADATA": "gannet.store.metadata.schema",
          "MetadataStore": "gannet.store.metadata.engine"}


def __getattr__(name: str) -> Any:
    if name == "dialect":
        return importlib.import_module("gannet.store.metadata.dialect")
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
