"""features: the feature store (definitions, point-in-time training sets, online values).

- ``types``         ``Entity``, ``FeatureView``, ``Feature`` (plain values), ``parse_ttl``
- ``definitions``   definitions from YAML, ``Change`` and what changed between versions
- ``sources``       a view's source (Parquet/CSV path or DuckDB query); ``resolve_source``
                    is the seam for dataset versions (``churn@3``)
- ``schema_check``  a view checked against its source's schema, types read from it
- ``refs``          ``view:feature`` references resolved, close matches on a typo
- ``on_demand``     ``OnDemandFeatureView``: features a Python function computes from
                    request fields and other features; ``on_demand_frames`` adds them to
                    training sets and online reads
- ``outputs``       what a read can be returned as (``check_output``), for every face
- ``offline``       ``training_set``: DuckDB ASOF joins, point-in-time correct, ttl honoured;
                    ``view_rows``: a view's rows (what validation and profiles read)
- ``provenance``    a saved training set's lineage inputs (views at versions, sources)
- ``offline_repository``  the DuckDB SQL
- ``materialization``  newest values per entity into the online store (incremental)
- ``online_store``  ``OnlineStore`` protocol, ``open_online_store``, ``read_online``
- ``online_repository``  the SQLite online store; ``online_redis`` the Redis one
- ``lookup``        ``FeatureLookup``: what the inference server calls per micro-batch
- ``tables``, ``repository``, ``service``: registered definitions, materializations and
                    ``FeatureStore``

The functions below use the process's default services (``gannet.configure``), found
through the ``gannet.feature_stores`` entry point (this package sits below bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gannet.features.on_demand import OnDemandFeatureView
from gannet.features.types import Entity, Feature, FeatureView

if TYPE_CHECKING:
    from gannet.features.definitions import Change
    from gannet.features.materialization import Materialization
    from gannet.features.service import FeatureStore

__all__ = ["Entity", "Feature", "FeatureView", "OnDemandFeatureView", "apply",
           "feature_store", "materialize", "online", "staleness", "training_set"]

STORE_GROUP = "gannet.feature_stores"


_source: list[Any] = []  # the entry point's function, found once per process


def feature_store() -> FeatureStore:
    """The ``FeatureStore`` of the process's default services."""
    if not _source:
        from importlib import metadata

        from gannet.core.errors import NotSupported

        entries = list(metadata.entry_points(group=STORE_GROUP))
        if not entries:
            raise NotSupported("no feature store is installed", "reinstall gannet-mlops")
        _source.append(entries[0].load())
    store: FeatureStore = _source[0]()
    return store


def apply(definitions: Any, *, dry_run: bool = False) -> list[Change]:
    """Register entities and feature views; what changed, breaking changes named."""
    return feature_store().apply(definitions, dry_run=dry_run)


def training_set(entity_df: Any, features: Sequence[str] | str, *,
                 output: str = "pandas", save_as: str | None = None, message: str = "") -> Any:
    """Point-in-time correct feature values for each row of ``entity_df``; ``save_as``
    also stores them as a version of that dataset, with lineage to the feature views and
    their sources, recorded as an input of the active run when there is one."""
    run_id = _active_run_id() if save_as is not None else None
    return feature_store().training_set(entity_df, features, output=output, save_as=save_as,
                                        message=message, run_id=run_id)


def materialize(start: Any = None, end: Any = None,
                views: Sequence[str] | None = None) -> list[Materialization]:
    """Load the newest values into the online store (incremental without ``start``)."""
    return feature_store().materialize(start, end, views)


def online(features: Sequence[str] | str, entity_rows: Any, *, output: str = "pandas") -> Any:
    """The newest values of ``features`` for each entity row."""
    return feature_store().online(features, entity_rows, output=output)


def staleness() -> dict[str, float | None]:
    """Seconds since the newest value in the online store, per feature view."""
    return feature_store().staleness()


def _active_run_id() -> str | None:
    """The fluent SDK's active run (a layer above: found through its entry point)."""
    from importlib import metadata

    for entry in metadata.entry_points(group="gannet.data_services"):
        if entry.name == "active_run":
            run = entry.load()()
            return None if run is None else str(run.run_id)
    return None
