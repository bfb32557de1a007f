"""Which project owns a registered model: the SQL of the registry's permission checks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.registry.tables import registered_models


def model_project(conn: Connection, name: str) -> str | None:
    """The project of the registered model ``name`` (None: there is no such model)."""
    return conn.execute(
        sa.select(registered_models.c.project).where(registered_models.c.name == name)
    ).scalar()


def count_models(conn: Connection, project: str) -> int:
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(registered_models)
        .where(registered_models.c.project == project)
    ).scalar() or 0)
