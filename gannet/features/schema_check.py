"""A feature view checked against its source's schema: its entities are known, the source
has its join keys, time column and features, and untyped features get the source's types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gannet.core.errors import InvalidArgument, InvalidState, Unavailable
from gannet.features import offline_repository as repo
from gannet.features.refs import join_keys
from gannet.features.types import Entity, FeatureView


def typed_view(view: FeatureView, entities: Mapping[str, Entity], relation: str) -> FeatureView:
    """``view`` with every feature typed; ``relation`` reads its source."""
    keys = join_keys(view, entities)
    con = repo.connect()
    try:
        schema = repo.relation_schema(con, relation)
    except Exception as exc:  # DuckDB's errors: a bad query, an unreadable file
        raise InvalidArgument(f"the source of feature view {view.name!r} cannot be read: {exc}",
                              "check the path or query of its source") from exc
    finally:
        con.close()
    wanted = [*keys, view.timestamp_field, *view.feature_names]
    missing = [c for c in wanted if c not in schema]
    if missing:
        raise InvalidArgument(
            f"the source of feature view {view.name!r} has no column "
            f"{', '.join(missing)}",
            f"its columns: {', '.join(schema)}; fix the view or the source",
        )
    if not schema[view.timestamp_field].upper().startswith("TIMESTAMP"):
        raise InvalidArgument(
            f"{view.name}.{view.timestamp_field} is {schema[view.timestamp_field]}, "
            "not a timestamp", "cast it to TIMESTAMP in a SQL source")
    return view.with_types({f: schema[f] for f in view.feature_names})


def source_schema(con: object, view: FeatureView, relation: str) -> dict[str, str]:
    """The schema of a registered view's source, read now; an unreadable source is
    ``Unavailable`` (it may come back)."""
    try:
        return repo.relation_schema(con, relation)
    except Exception as exc:  # DuckDB's errors: a file gone, a query that no longer binds
        raise Unavailable(f"the source of feature view {view.name!r} cannot be read: {exc}",
                          "check its files, or re-apply the view with a source that exists"
                          ) from exc


def check_unchanged(view: FeatureView, keys: Sequence[str], schema: Mapping[str, str]) -> None:
    """The source still has what the registered view says: its join keys, time column and
    features, each feature of its registered type (else ``InvalidState``, naming them)."""
    missing = [c for c in [*keys, view.timestamp_field, *view.feature_names] if c not in schema]
    retyped = [f"{f.name} {f.type} -> {schema[f.name]}" for f in view.features
               if f.name in schema and f.type and schema[f.name] != f.type]
    if missing or retyped:
        what = "; ".join(filter(None, [
            f"missing {', '.join(missing)}" if missing else "",
            f"retyped {', '.join(retyped)}" if retyped else ""]))
        raise InvalidState(
            f"the source of feature view {view.name!r} changed since it was registered: {what}",
            "fix the source, or re-apply the view (gannet features apply) to register the "
            "new schema",
        )
