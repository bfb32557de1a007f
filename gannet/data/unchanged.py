"""An unchanged re-add answered before any store opens.

``gannet data add`` of a folder the stat cache vouches for, when the latest version holds
exactly those files, makes nothing: it only has to say so. Opening the metadata store
(SQLAlchemy, the schema check) and the blob store costs more than listing 20,000 files, so
for the embedded SQLite store this reads the stat cache and the latest version's row
directly. Whatever it cannot vouch for (a team server, PostgreSQL, a changed file, a schema
at another revision) answers None: the caller then makes the add as usual, which decides.
"""

from __future__ import annotations

import os
from pathlib import Path

from gannet.core.settings import Settings
from gannet.data.latest_repository import latest_version
from gannet.data.listing import StatCache, scan
from gannet.data.types import DatasetVersion
from gannet.store.metadata.migrations import HEAD


def stat_cache_folder(settings: Settings) -> Path:
    """Where the stat caches of the folders added on this machine live."""
    return settings.home / "cache" / "data" / "stat"


def latest_if_unchanged(settings: Settings, source: str | os.PathLike[str],
                        name: str) -> DatasetVersion | None:
    """The latest version of ``name`` when ``source`` is known, by its stat, to hold
    exactly its files; None when that cannot be told here."""
    database = _sqlite_file(settings.metadata_url)
    if settings.uri or database is None:
        return None
    source = os.fspath(source)
    cache = StatCache(stat_cache_folder(settings), source).load()
    if cache.manifest is None:  # never added whole from here: list nothing twice
        return None
    version = latest_version(database, name, HEAD)
    if version is None or version.manifest_digest != cache.manifest:
        return None
    _, files = scan(source)
    known = {f.relative: digest for f in files if (digest := cache.known(f)) is not None}
    return version if cache.manifest_of(files, known) == version.manifest_digest else None


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL without options (None for anything else)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or url == prefix or url.endswith(":memory:"):
        return None
    return Path(url[len(prefix):]).expanduser()
