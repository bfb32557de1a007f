"""Where a feature view's rows come from: a Parquet/CSV path, or a DuckDB query over them.

``resolve_source(spec, resolve_dataset)`` is the one seam for other kinds of source: a
dataset version (``churn@3``) resolves to its files through ``resolve_dataset`` (a
``DatasetResolver`` the composition root passes to ``FeatureStore``; the data capability
provides it). ``relation_sql`` is the DuckDB relation (a table function or a sub-query).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from gannet.core.errors import InvalidArgument, NotFound, NotSupported

_QUERY = re.compile(r"^\s*(select|with|from)\b", re.IGNORECASE)
_DATASET_REF = re.compile(r"^[A-Za-z0-9_.\-/]+@[A-Za-z0-9_.\-]+$")

DatasetResolver = Callable[[str], str]  # "churn@3" -> the path of its Parquet/CSV files
VIEW_PREFIX = "feature_view:"  # a table source that names a feature view's rows


def feature_view_named(source: object) -> str | None:
    """The feature view a table source names (``feature_view:churn_stats``), else None:
    validation suites and profiles take one where they take a path."""
    if isinstance(source, str) and source.startswith(VIEW_PREFIX):
        return source[len(VIEW_PREFIX):]
    return None


def is_query(spec: str) -> bool:
    return bool(_QUERY.match(spec))


def table_of(source: object, read_feature_view: Callable[[str], object] | None) -> object:
    """The table a source names: a feature view's rows for ``feature_view:NAME``, else the
    source itself (a path or a table)."""
    view = feature_view_named(source)
    if view is None:
        return source
    if read_feature_view is None:
        raise NotSupported(f"{source!r} names a feature view, which cannot be read here",
                           "validate the view's source instead")
    return read_feature_view(view)


def is_dataset_ref(spec: str) -> bool:
    """Whether ``spec`` reads like a dataset version (``churn@3``) rather than a path."""
    return bool(_DATASET_REF.match(spec)) and not Path(spec).expanduser().exists()


def check_dataset_sources(items: Iterable[object]) -> None:
    """Refuse a feature view whose source is not a dataset version (``churn@3``): what a
    team server's caller registers must not read a path, or run a query, on the server's
    machine."""
    for item in items:
        source = getattr(item, "source", None)
        if source is not None and not _DATASET_REF.match(str(source)):
            raise InvalidArgument(
                f"feature view {getattr(item, 'name', '?')!r} reads {str(source)[:80]!r}: "
                "through a team server a source must be a dataset version (NAME@VERSION)",
                "version the source with gannet data add (then name it, e.g. churn@3), or "
                "register the view on the server's machine",
            )


def resolve_source(spec: str, resolve_dataset: DatasetResolver | None = None) -> str:
    """The local path (or query) a source names. Dataset versions (``name@version``) are
    the data capability's to resolve: without ``resolve_dataset`` they are refused clearly."""
    if is_query(spec):
        return spec
    if is_dataset_ref(spec):
        if resolve_dataset is not None:
            return resolve_source(resolve_dataset(spec))
        raise NotSupported(
            f"source {spec!r} names a dataset version, which feature views cannot read yet",
            "give the path of its Parquet/CSV files, or a SQL query over them",
        )
    path = Path(spec).expanduser()
    if not path.exists():
        raise NotFound(f"feature source {spec!r} does not exist",
                       "give a Parquet file or folder, a CSV file, or a SQL query over them")
    return str(path.resolve())


def relation_sql(spec: str, resolve_dataset: DatasetResolver | None = None) -> str:
    """The DuckDB relation that reads ``spec``: ``read_parquet(...)``, ``read_csv(...)``
    or ``(query)``."""
    resolved = resolve_source(spec, resolve_dataset)
    if is_query(resolved):
        return f"({resolved.strip().rstrip(';')})"
    path = Path(resolved)
    if path.is_dir():
        if any(path.rglob("*.parquet")):
            return f"read_parquet({_quote(str(path / '**' / '*.parquet'))})"
        if any(path.rglob("*.csv")):
            return f"read_csv({_quote(str(path / '**' / '*.csv'))})"
        raise InvalidArgument(f"folder {spec} holds no .parquet or .csv files",
                              "point the source at Parquet or CSV files")
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return f"read_csv({_quote(resolved)})"
    return f"read_parquet({_quote(resolved)})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
