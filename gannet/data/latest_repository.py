"""A dataset's latest version read with the standard library's ``sqlite3``: what an
unchanged re-add answers from, before SQLAlchemy has finished importing. Read-only, and
only at the schema revision this code was written for; anything else (another revision,
a database it cannot open, a lock held too long) answers None and the caller takes the
ordinary path through the metadata store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

from gannet.data.types import DatasetVersion
from gannet.store.metadata.migrations import VERSION_TABLE

_LATEST = (
    "SELECT name, version, manifest_digest, kind, file_count, size, message, columns, "
    "source, creation_time FROM dataset_versions WHERE name = ? AND deleted_time IS NULL "
    "ORDER BY version DESC LIMIT 1"
)
_TAGS = "SELECT tag FROM dataset_tags WHERE name = ? AND version = ? ORDER BY tag"


def latest_version(database: Path, name: str, revision: str) -> DatasetVersion | None:
    """The latest version of ``name`` in the SQLite file ``database`` when its schema is
    at ``revision`` (None when it is not, or the dataset has no version)."""
    if not database.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{quote(str(database.resolve()))}?mode=ro", uri=True,
                               timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        at = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        if at != [(revision,)]:
            return None
        row = conn.execute(_LATEST, (name,)).fetchone()
        if row is None:
            return None
        tags = tuple(tag for (tag,) in conn.execute(_TAGS, (name, row[1])))
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    (name, number, manifest_digest, kind, file_count, size, message, columns, source,
     created) = row
    return DatasetVersion(
        name=name, version=number, manifest_digest=manifest_digest, kind=kind,
        file_count=file_count, size=size, message=message, columns=tuple(json.loads(columns)),
        source=source, creation_time=created, tags=tags,
    )
