"""Dataset tables on the shared MetaData. Changed only together with a migration."""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from gannet.store.metadata.schema import METADATA

# The catalogue entry of a dataset: made by its first version, described by hand.
datasets = Table(
    "datasets",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("owner", String(200), nullable=False, server_default=""),
    Column("keywords", Text, nullable=False, server_default="[]"),  # JSON list
    Column("column_descriptions", Text, nullable=False, server_default="{}"),  # JSON object
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
)

# A version: a manifest (a blob) of the file or folder's files. A deleted version keeps
# its row (its number is never given again); ``purged`` once gc may take its blobs.
dataset_versions = Table(
    "dataset_versions",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("manifest_digest", String(80), nullable=False),
    Column("kind", String(10), nullable=False),  # file | folder
    Column("file_count", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("columns", Text, nullable=False, server_default="[]"),  # JSON list of names
    Column("source", Text, nullable=False, server_default=""),
    Column("creation_time", BigInteger, nullable=False),
    Column("deleted_time", BigInteger, nullable=True),
    Column("purged", Integer, nullable=False, server_default="0"),
    Index("ix_dataset_versions_creation_time", "creation_time"),
)

# NAME@TAG -> a version (one version per tag and dataset; a version may have several).
dataset_tags = Table(
    "dataset_tags",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("tag", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
)

# A small file's bytes inside a pack blob (``gannet.data.packs``): many files, one blob.
data_packed = Table(
    "data_packed",
    METADATA,
    Column("digest", String(80), primary_key=True),
    Column("pack", String(80), nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_data_packed_pack", "pack"),
)
