"""data: versioned datasets, their files, the catalogue, and what used them.

- ``types``: ``DatasetVersion`` (name, version, manifest), ``Dataset`` (a catalogue
  entry), ``AddResult``, ``CheckoutResult``, ``VersionDiff``, ``Usage``
- ``refs``: names and references (``churn``, ``churn@3``, ``churn@latest``, ``churn@prod``)
- ``tables`` / ``repository``: the ``datasets``, ``dataset_versions`` and ``dataset_tags``
  tables and all their SQL
- ``scan``: listing a file or folder to add, the stat cache, hashing and storing in parallel
- ``checkout``: putting a manifest's files in a folder (reflink or copy, always verified)
- ``table_repository``: the SQL over table files (DuckDB): column names, schema and
  row diffs
- ``files``: ``checkout``, ``local_path``, ``open`` and ``diff`` of versions
- ``catalogue``: descriptions, owners, keywords, search; lineage (``log_input``, ``usage``)
- ``gc``: the versions' side of garbage collection (``BlobReferences``)
- ``service``: ``DataService``, the one entry point of all of the above

The fluent functions below use the process's default services without importing the
composition root (a layer above this one): they ask the ``gannet.data_services`` entry
point, as ``gannet.models.load_model`` asks ``gannet.model_resolvers``.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import TYPE_CHECKING, Any

from gannet.core.errors import GannetError

if TYPE_CHECKING:
    from gannet.data.service import DataService
    from gannet.data.types import AddResult, DatasetVersion

SERVICES_GROUP = "gannet.data_services"

__all__ = ["SERVICES_GROUP", "add", "log_input", "open", "resolve"]


def add(
    data: Any, name: str, *, message: str = "", tags: tuple[str, ...] | list[str] = ()
) -> AddResult:
    """Version a file or folder (a path), or a pandas/polars DataFrame or Arrow table
    (stored as one Parquet file), as a new version of ``name`` (none when unchanged)."""
    service = _service()
    if isinstance(data, str | os.PathLike):
        return service.add(data, name, message=message, tags=tags)
    return service.add_table(data, name, message=message, tags=tags)


def open(ref: str, as_: str = "path") -> Any:
    """The version ``ref`` as a ``path``, a ``pandas`` or ``polars`` DataFrame, or an
    ``arrow`` dataset."""
    return _service().open(ref, as_=as_)


def resolve(ref: str) -> DatasetVersion:
    return _service().resolve(ref)


def log_input(ref: str, context: str = "", *, run_id: str | None = None) -> DatasetVersion:
    """Record that a run (the active one unless ``run_id``) used the version ``ref``."""
    return _entry("log_input")(ref, context, run_id=run_id)


def _service() -> DataService:
    return _entry("default")()


def _entry(name: str) -> Any:
    for entry in metadata.entry_points(group=SERVICES_GROUP):
        if entry.name == name:
            return entry.load()
    raise GannetError(
        f"no {SERVICES_GROUP!r} entry point named {name!r} is installed",
        "install Gannet (pip install gannet-mlops, or pip install -e . in a checkout) so "
        "its entry points are registered",
    )
