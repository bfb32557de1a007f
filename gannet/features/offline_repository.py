"""The DuckDB SQL of feature views: source schemas, point-in-time joins, latest values.

Every function takes an open DuckDB connection (its ``TimeZone`` set to UTC by
``connect``); relations come from ``sources.relation_sql``. Heavy work stays in DuckDB:
nothing here loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gannet.features.sources import quote_ident as q

ROW = "__gannet_row"


def connect() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def relation_schema(con: Any, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type of a relation (reads only its schema)."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


@dataclass(frozen=True)
class ViewJoin:
    """One feature view in a point-in-time join: its relation, keys, time, features."""

    relation: str
    join_keys: Sequence[str]
    timestamp_field: str
    ttl: int
    features: Sequence[tuple[str, str]]  # (source column, output column)


def point_in_time(con: Any, entities: str, timestamp: str, views: Sequence[ViewJoin]) -> Any:
    """For each row of the registered table ``entities``, each view's newest row at or
    before its ``timestamp`` (and within the view's ttl): one ASOF LEFT JOIN per view. An
    Arrow table of the feature columns, in the entity rows' order."""
    ts = f"e.{q(timestamp)}"
    selects, joins = [], []
    for i, view in enumerate(views):
        alias = f"v{i}"
        inner = [f"{q(k)} AS {q(f'__k{j}')}" for j, k in enumerate(view.join_keys)]
        inner.append(f"{q(view.timestamp_field)} AS __ts")
        inner += [f"{q(col)} AS {q(f'__f{n}')}" for n, (col, _) in enumerate(view.features)]
        on = [f"e.{q(k)} = {alias}.{q(f'__k{j}')}" for j, k in enumerate(view.join_keys)]
        on.append(f"{ts} >= {alias}.__ts")
        joins.append(f"ASOF LEFT JOIN (SELECT {', '.join(inner)} FROM {view.relation}) {alias} "
                     f"ON {' AND '.join(on)}")
        for n, (_, out) in enumerate(view.features):
            value = f"{alias}.{q(f'__f{n}')}"
            if view.ttl > 0:
                value = (f"CASE WHEN {alias}.__ts >= {ts} - to_seconds({int(view.ttl)}) "
                         f"THEN {value} END")
            selects.append(f"{value} AS {q(out)}")
    sql = (f"SELECT {', '.join(selects)} FROM {entities} e {' '.join(joins)} "
           f"ORDER BY e.{q(ROW)}")
    return _arrow(con.sql(sql))


def latest_rows(con: Any, relation: str, join_keys: Sequence[str], timestamp_field: str,
                features: Sequence[str], after_us: int | None, until_us: int) -> Any:
    """The newest row per entity with ``after_us < epoch_us(timestamp) <= until_us``, as
    an Arrow table: the join keys, ``__ts`` (epoch microseconds), then the features."""
    keys = ", ".join(q(k) for k in join_keys)
    ts = f"epoch_us({q(timestamp_field)})"
    where = f"{ts} <= {int(until_us)}"
    if after_us is not None:
        where += f" AND {ts} > {int(after_us)}"
    columns = ", ".join([keys, f"{ts} AS __ts", *(q(f) for f in features)])
    sql = (f"SELECT {columns} FROM {relation} WHERE {where} "
           f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {ts} DESC) = 1")
    return _arrow(con.sql(sql))


def columns_of(con: Any, relation: str, columns: Sequence[str]) -> Any:
    """Every row of ``relation``, only ``columns``, as an Arrow table."""
    return _arrow(con.sql(f"SELECT {', '.join(q(c) for c in columns)} FROM {relation}"))


def _arrow(result: Any) -> Any:
    """The whole result as one Arrow table (``to_arrow_table`` in DuckDB 1.4+)."""
    read = getattr(result, "to_arrow_table", None) or result.arrow
    table = read()
    return table.read_all() if hasattr(table, "read_all") else table


def register(con: Any, name: str, table: Any) -> None:
    con.register(name, table)
