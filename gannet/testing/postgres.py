"""A throw-away PostgreSQL database per test session, and emptying it between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    url = os.environ.get("GANNET_TEST_POSTGRES_URL", DEFAULT_URL)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class PostgresUnavailable(RuntimeError):
    pass


@contextmanager
def temporary_database(prefix: str = "gannet_test") -> Iterator[str]:
    """Create a database of our own on the test server, yield its URL, drop it after."""
    base = make_url(server_url())
    admin = sa.create_engine(
        base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        where = base.render_as_string()
        raise PostgresUnavailable(f"PostgreSQL at {where} unreachable: {exc}") from exc
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_all_tables(url: str) -> None:
    """Remove every row (keeping the schema and its migration revision)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            names = [
                n
                for n in sa.inspect(conn).get_table_names()
                if n != "gannet_alembic_version"
            ]
            if names:
                conn.execute(sa.text(f"TRUNCATE {', '.join(names)} CASCADE"))
    finally:
        engine.dispose()
