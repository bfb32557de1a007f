"""Tracking's SQL for logged models (MLflow 3's): their rows, tags, params and the index of
their files. Rows in, plain types out; every function takes an open connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.metadata import dialect
from gannet.tracking.tables import (
    logged_model_files,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from gannet.tracking.types import LoggedModel, LoggedModelStatus

_CHILDREN = (logged_model_files, logged_model_params, logged_model_tags)


def insert_model(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(logged_models.insert().values(**values))


def update_model(conn: Connection, model_id: str, **values: Any) -> bool:
    """Change columns of a logged model; False when there is no such model."""
    result = conn.execute(
        logged_models.update().where(logged_models.c.model_id == model_id).values(**values)
    )
    return bool(result.rowcount)


def experiment_of(conn: Connection, model_id: str) -> str | None:
    """The experiment of the logged model ``model_id`` (None when there is none)."""
    return conn.execute(
        sa.select(logged_models.c.experiment_id).where(logged_models.c.model_id == model_id)
    ).scalar()


def delete_model(conn: Connection, model_id: str) -> None:
    """The model and everything of it (its blobs become collectable)."""
    for table in _CHILDREN:
        conn.execute(table.delete().where(table.c.model_id == model_id))
    conn.execute(logged_models.delete().where(logged_models.c.model_id == model_id))


def set_values(
    conn: Connection, table: sa.Table, model_id: str, values: Mapping[str, str]
) -> None:
    """Tags or params (``table``) of a model; a key set again takes the new value."""
    if not values:
        return
    stmt = dialect.insert(conn, table)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["model_id", "key"], set_={"value": stmt.excluded.value}
        ),
        [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()],
    )


def delete_tag(conn: Connection, model_id: str, key: str) -> bool:
    result = conn.execute(
        logged_model_tags.delete().where(
            logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key
        )
    )
    return bool(result.rowcount)


def models(
    conn: Connection,
    *,
    model_id: str | None = None,
    experiment_ids: Sequence[str] | None = None,
    source_run_id: str | None = None,
) -> list[LoggedModel]:
    """Logged models (with tags and params), newest first; each argument narrows them."""
    stmt = sa.select(logged_models).order_by(
        logged_models.c.creation_time.desc(), logged_models.c.model_id.desc()
    )
    if model_id is not None:
        stmt = stmt.where(logged_models.c.model_id == model_id)
    if experiment_ids is not None:
        stmt = stmt.where(logged_models.c.experiment_id.in_(list(experiment_ids)))
    if source_run_id is not None:
        stmt = stmt.where(logged_models.c.source_run_id == source_run_id)
    rows = conn.execute(stmt).mappings().all()
    if not rows:
        return []
    ids = [r["model_id"] for r in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    for table, found in ((logged_model_tags, tags), (logged_model_params, params)):
        for chunk in dialect.chunks(ids):
            for mid, key, value in conn.execute(
                sa.select(table.c.model_id, table.c.key, table.c.value).where(
                    table.c.model_id.in_(chunk)
                )
            ):
                found[mid][key] = value
    return [
        LoggedModel(**{**r, "status": LoggedModelStatus(r["status"])},
                    tags=tags[r["model_id"]], params=params[r["model_id"]])
        for r in rows
    ]


def index_files(conn: Connection, model_id: str, files: Iterable[tuple[str, str, int]]) -> None:
    """Record (path, digest, size) files of a model; a path stored again is replaced."""
    rows = [{"model_id": model_id, "path": p, "digest": d, "size": s} for p, d, s in files]
    if not rows:
        return
    stmt = dialect.insert(conn, logged_model_files)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["model_id", "path"],
            set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size},
        ),
        rows,
    )


def _under(prefix: str) -> Any:
    """Files at or below ``prefix`` ('' = all): substr, exact on every database."""
    column = logged_model_files.c.path
    return sa.or_(column == prefix, sa.func.substr(column, 1, len(prefix) + 1) == prefix + "/")


def file_rows(conn: Connection, model_id: str, prefix: str) -> list[tuple[str, str, int]]:
    """(path, digest, size) of the model's files at or below ``prefix``, sorted by path."""
    stmt = sa.select(
        logged_model_files.c.path, logged_model_files.c.digest, logged_model_files.c.size
    ).where(logged_model_files.c.model_id == model_id)
    if prefix:
        stmt = stmt.where(_under(prefix))
    return [tuple(r) for r in conn.execute(stmt.order_by(logged_model_files.c.path))]


def delete_files(conn: Connection, model_id: str, prefix: str) -> int:
    stmt = logged_model_files.delete().where(logged_model_files.c.model_id == model_id)
    if prefix:
        stmt = stmt.where(_under(prefix))
    return int(conn.execute(stmt).rowcount)


def digests(conn: Connection) -> set[str]:
    """Every digest a logged model's file references (garbage collection keeps them)."""
    return set(conn.execute(sa.select(logged_model_files.c.digest).distinct()).scalars())


def digests_in_use(conn: Connection, wanted: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in dialect.chunks(list(wanted)):
        found.update(
            conn.execute(
                sa.select(logged_model_files.c.digest)
                .distinct()
                .where(logged_model_files.c.digest.in_(chunk))
            ).scalars()
        )
    return found
