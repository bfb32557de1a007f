"""Infrastructure: where bytes and rows live.

- ``metadata``: the SQL metadata store (SQLite in WAL mode or PostgreSQL), the shared
  SQLAlchemy ``MetaData`` every capability puts its tables on, and Alembic migrations
- ``blobs``: the content-addressed blob store over fsspec (local folder, s3://, ...)
- ``gc``: garbage collection of blobs nothing references, safe with writers running
- ``replies``: answers kept for retried requests (the team server's ``Idempotency-Key``)
"""
