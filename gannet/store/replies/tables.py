"""The replies table on the shared MetaData. Changed only with a migration."""

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table

from gannet.store.metadata.schema import METADATA

# One row per idempotency key (scoped by the caller): the request's fingerprint and, once
# the first attempt has answered, its status and body (status 0 while it runs).
request_replies = Table(
    "request_replies",
    METADATA,
    Column("reply_key", String(300), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_time", BigInteger, nullable=False, index=True),
)
