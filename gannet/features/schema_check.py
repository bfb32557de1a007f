"""A feature view checked against its source's schema: its entities are known, the source
has its join keys, time column and features, and untyped features get the source's types."""

from __future__ import annotations

from collections.abc import Mapping

from gannet.core.errors import InvalidArgument
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
