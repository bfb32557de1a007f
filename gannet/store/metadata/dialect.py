"""The few statements SQLite and PostgreSQL spell differently, and the limits both share,
written once for every capability."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Connection

T = TypeVar("T")
IN_LIST = 900  # values per IN (...): SQLite refuses statements of over 999 parameters


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """``items`` in slices small enough to bind as one ``IN`` list on every backend."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marker(conn: Connection) -> str:
    """The driver's positional parameter marker, for SQL sent as written
    (``exec_driver_sql``): ``?`` for SQLite, ``%s`` for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return insert_for(conn.dialect.name, table)


def insert_for(dialect_name: str, table: Table) -> Any:
    """The same, by dialect name (for statements built once and cached)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
