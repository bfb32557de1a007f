"""Point-in-time correct training sets: for each entity row, each feature's value as it
was at that row's ``event_timestamp`` (never a later one; none older than the view's ttl).

The entity frame (pandas, polars or Arrow) goes to DuckDB as Arrow; one ASOF LEFT JOIN per
feature view does the work (``offline_repository.point_in_time``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.features import offline_repository as repo
from gannet.features.outputs import check_output
from gannet.features.refs import join_keys, output_names
from gannet.features.schema_check import check_unchanged, source_schema
from gannet.features.types import Entity, FeatureView

ENTITIES = "__gannet_entities"


def to_arrow(frame: Any, what: str = "entity_df") -> Any:
    """An Arrow table from a pandas or polars DataFrame, an Arrow table or a list of dicts."""
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        return frame
    if hasattr(frame, "to_arrow"):  # polars
        return frame.to_arrow()
    if hasattr(frame, "columns") and hasattr(frame, "iloc"):  # pandas
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(frame, list) and all(isinstance(r, Mapping) for r in frame):
        return pa.Table.from_pylist(frame)
    raise InvalidArgument(f"{what} is a {type(frame).__name__}",
                          "give a pandas or polars DataFrame, an Arrow table or a list of dicts")


def training_set(entity_df: Any, wanted: Mapping[str, list[str]],
                 views: Mapping[str, FeatureView], entities: Mapping[str, Entity],
                 relations: Mapping[str, str], *, timestamp: str = "event_timestamp",
                 output: str = "pandas") -> Any:
    """The entity frame with the wanted features joined point-in-time."""
    import pyarrow as pa

    check_output(output)
    table = to_arrow(entity_df)
    keys = {v: join_keys(views[v], entities) for v in wanted}
    _check_columns(table.column_names, timestamp, keys)
    if repo.ROW in table.column_names:
        raise InvalidArgument(f"entity_df has a column {repo.ROW}", "rename it")
    table = table.append_column(repo.ROW, pa.array(range(table.num_rows), pa.int64()))
    names = output_names(wanted, table.column_names)
    con = repo.connect()
    try:
        repo.register(con, ENTITIES, table)
        entity_ts = repo.relation_schema(con, ENTITIES)[timestamp]
        joins = []
        for view_name, features in wanted.items():
            view = views[view_name]
            relation = relations[view_name]
            schema = source_schema(con, view, relation)
            check_unchanged(view, keys[view_name], schema)
            check_timestamps(view, schema, entity_ts, timestamp)
            joins.append(repo.ViewJoin(relation, keys[view_name], view.timestamp_field,
                                       view.ttl, [(f, names[(view_name, f)]) for f in features]))
        found = repo.point_in_time(con, ENTITIES, timestamp, joins)
    finally:
        con.close()
    return _joined(entity_df, table.drop_columns([repo.ROW]), found, output)


def _joined(entity_df: Any, table: Any, found: Any, output: str) -> Any:
    """The entity rows as given (their columns untouched) with the feature columns."""
    if output == "pandas" and hasattr(entity_df, "iloc"):
        result = entity_df.reset_index(drop=True)  # a new frame: the caller's is not changed
        result = result.copy(deep=False)
        for name in found.column_names:
            result[name] = found.column(name).to_pandas()
        return result
    for name in found.column_names:
        table = table.append_column(name, found.column(name))
    return from_arrow(table, output)


def from_arrow(table: Any, output: str) -> Any:
    """An Arrow table as ``output``: itself, a polars or a pandas DataFrame."""
    if output == "arrow":
        return table
    if output == "polars":
        from importlib import import_module

        return import_module("polars").from_arrow(table)  # an optional library
    if output == "pandas":
        return table.to_pandas()
    check_output(output)
    raise AssertionError(output)


def view_rows(view: FeatureView, keys: list[str], relation: str) -> Any:
    """A view's rows from its source: join keys, time column and features (Arrow), after
    checking the source still has them with their registered types."""
    con = repo.connect()
    try:
        schema = source_schema(con, view, relation)
        check_unchanged(view, keys, schema)
        return repo.columns_of(con, relation,
                               [*keys, view.timestamp_field, *view.feature_names])
    finally:
        con.close()


def _check_columns(columns: list[str], timestamp: str, keys: Mapping[str, list[str]]) -> None:
    if timestamp not in columns:
        raise InvalidArgument(
            f"entity_df has no column {timestamp!r}",
            f"add the time each row's features should be as of (columns: {', '.join(columns)})",
        )
    for view, view_keys in keys.items():
        missing = [k for k in view_keys if k not in columns]
        if missing:
            raise InvalidArgument(
                f"entity_df lacks the join key{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} of feature view {view!r}",
                f"add {'them' if len(missing) > 1 else 'it'} (columns: {', '.join(columns)})",
            )


def is_aware(duck_type: str) -> bool:
    kind = duck_type.upper()  # TIMESTAMPTZ, TIMESTAMPTZ_NS, TIMESTAMP WITH TIME ZONE
    return "WITH TIME ZONE" in kind or kind.startswith("TIMESTAMPTZ")


def check_timestamps(view: FeatureView, schema: Mapping[str, str], entity_type: str,
                     timestamp: str) -> None:
    """Both sides are timestamps, and both naive or both time-zone aware (comparing one
    with the other would shift by the session's time zone without a word)."""
    source_type = schema.get(view.timestamp_field)
    if source_type is None:
        raise InvalidArgument(
            f"the source of feature view {view.name!r} has no column {view.timestamp_field!r}",
            f"set timestamp_field to its time column (columns: {', '.join(schema)})",
        )
    for side, kind in ((f"entity_df.{timestamp}", entity_type),
                       (f"{view.name}.{view.timestamp_field}", source_type)):
        if not kind.upper().startswith("TIMESTAMP"):
            raise InvalidArgument(f"{side} is {kind}, not a timestamp",
                                  "convert it (pandas.to_datetime) before asking for features")
    if is_aware(entity_type) != is_aware(source_type):
        aware, naive = ((f"entity_df.{timestamp}", f"{view.name}.{view.timestamp_field}")
                        if is_aware(entity_type) else
                        (f"{view.name}.{view.timestamp_field}", f"entity_df.{timestamp}"))
        raise InvalidArgument(
            f"{aware} has a time zone but {naive} has none: comparing them would shift "
            "times silently",
            "make both naive UTC or both time-zone aware (tz_localize('UTC') or "
            "tz_convert(None))",
        )


def parquet_table(data: bytes, what: str) -> Any:
    """A Parquet document's table (an entity frame sent to a team server)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgument(f"{what} is not a Parquet table: {exc}",
                              "send the entity rows as Parquet "
                              "(content-type: application/vnd.apache.parquet)") from None


def table_parquet(table: Any) -> bytes:
    """An Arrow table as one Parquet document."""
    import io

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
