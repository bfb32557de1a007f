"""data: versioned datasets, their files, the catalogue, and what used them.

- ``types``: ``DatasetVersion`` (name, version, manifest), ``Dataset`` (a catalogue
  entry), ``AddResult``, ``CheckoutResult``, ``VersionDiff``, ``Usage``
- ``refs``: names and references (``churn``, ``churn@3``, ``churn@latest``, ``churn@prod``)
- ``tables`` / ``repository``: the ``datasets``, ``dataset_versions``, ``dataset_tags``
  and ``data_packed`` tables and all their SQL
- ``listing``: listing a file or folder to add, and the stat cache that vouches for its files
- ``scan``: hashing and storing those files in parallel
- ``packs``: small files stored together in pack blobs (``PackIndex``: where each file's
  bytes lie, read back verified); ``repack``: garbage collection rewriting packs that hold
  files no kept version lists
- ``unchanged`` / ``latest_repository``: an unchanged re-add answered from the stat cache
  and the latest version's row (read with ``sqlite3``) before any store opens
- ``checkout``: putting a manifest's files in a folder (reflink or copy, always verified)
- ``table_repository``: the SQL over table files (DuckDB): column names, schema and
  row diffs
- ``files``: ``checkout``, ``local_path``, ``open`` and ``diff`` of versions
- ``catalogue``: descriptions, owners, keywords, search; lineage (``log_input``, ``usage``,
  ``add_derived``: a table made from other things, with their edges)
- ``feature_catalogue``: feature views in the catalogue (freshness, who uses them)
- ``gc``: the versions' side of garbage collection (``BlobReferences``)
- ``transfer``: versions made and read by clients of a team server (which blobs are
  missing, a version committed from uploaded files, one file read), and the roles
  that reading and writing datasets need there
- ``service``: ``DataService``, the one entry point of all of the above
- ``validation/``: suites of checks (YAML or Python), the engine that runs them in one
  DuckDB pass, reports, stored results (``ValidationService``)

The fluent functions below use the process's default services without importing the
composition root (a layer above this one): they ask the ``gannet.data_services`` entry
point, as ``gannet.models.load_model`` asks ``gannet.model_resolvers``. ``profile`` and
``validate`` compute over a table (a Parquet file or folder, a CSV file, an Arrow table or
a pandas or polars DataFrame) and store nothing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from gannet.core.errors import GannetError

if TYPE_CHECKING:
    from gannet.data.service import DataService
    from gannet.data.types import AddResult, DatasetVersion
    from gannet.data.validation.report import ValidationReport
    from gannet.stats.profile import Profile

SERVICES_GROUP = "gannet.data_services"

__all__ = ["SERVICES_GROUP", "add", "log_input", "open", "profile", "resolve", "validate"]


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


def profile(table_or_path: Any) -> Profile:
    """Schema, row count and per-column statistics of a table (see ``gannet.stats.profile``);
    ``feature_view:NAME`` profiles a feature view's rows."""
    from gannet.stats.profile import profile as compute

    return compute(_table(table_or_path))


def validate(table_or_path: Any, suite: Any) -> ValidationReport:
    """Run ``suite`` (a path, YAML text, a list of check mappings or ``Check`` objects) over
    a table (or ``feature_view:NAME``: a feature view's rows); the report says which checks
    failed and shows a few offending rows."""
    from gannet.data.validation.engine import validate as run

    label = table_or_path if isinstance(table_or_path, str) else None
    return run(_table(table_or_path), suite, label=label)


def _table(table_or_path: Any) -> Any:
    from gannet.features import feature_store
    from gannet.features.sources import table_of

    return table_of(table_or_path, lambda name: feature_store().view_table(name))


def _service() -> DataService:
    return _entry("default")()


def _entry(name: str) -> Any:
    from importlib import metadata

    for entry in metadata.entry_points(group=SERVICES_GROUP):
        if entry.name == name:
            return entry.load()
    raise GannetError(
        f"no {SERVICES_GROUP!r} entry point named {name!r} is installed",
        "install Gannet (pip install gannet-mlops, or pip install -e . in a checkout) so "
        "its entry points are registered",
    )
