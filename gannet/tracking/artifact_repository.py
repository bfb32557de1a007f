"""Tracking's SQL for artifacts: the index of the files runs logged, and what garbage
collection asks of it. Rows in, plain types out; every function takes an open connection.
(The rest of tracking's SQL is in ``repository``.)"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.metadata import dialect
from gannet.tracking.tables import (
    artifacts,
    latest_metrics,
    metrics,
    params,
    runs,
    tags,
)
from gannet.tracking.types import Lifecycle


@functools.cache
def _artifacts_upsert(dialect_name: str) -> Any:
    """Logging a path again replaces it (built once per dialect)."""
    stmt = dialect.insert_for(dialect_name, artifacts)
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "path"],
        set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size},
    )


def index_artifacts(conn: Connection, run_id: str, files: Iterable[tuple[str, str, int]]) -> None:
    """Record (path, digest, size) files of a run; logging a path again replaces it."""
    rows = [{"run_id": run_id, "path": p, "digest": d, "size": s} for p, d, s in files]
    if not rows:
        return
    conn.execute(_artifacts_upsert(conn.dialect.name), rows)


def artifact_rows(conn: Connection, run_id: str, prefix: str) -> list[tuple[str, str, int]]:
    """(path, digest, size) of every file at or below ``prefix`` ('' = all), sorted by path."""
    stmt = sa.select(artifacts.c.path, artifacts.c.digest, artifacts.c.size).where(
        artifacts.c.run_id == run_id
    )
    if prefix:  # substr, not LIKE: exact and case-sensitive on every database
        stmt = stmt.where(
            sa.or_(
                artifacts.c.path == prefix,
                sa.func.substr(artifacts.c.path, 1, len(prefix) + 1) == prefix + "/",
            )
        )
    return [tuple(r) for r in conn.execute(stmt.order_by(artifacts.c.path))]


def delete_artifacts(conn: Connection, run_id: str, prefix: str) -> int:
    """Forget the run's file ``prefix``, or every file below it; how many went."""
    under = sa.or_(
        artifacts.c.path == prefix,
        sa.func.substr(artifacts.c.path, 1, len(prefix) + 1) == prefix + "/",
    )
    return int(conn.execute(
        artifacts.delete().where(artifacts.c.run_id == run_id, under)).rowcount)


# -- garbage collection ---------------------------------------------------------------------


def runs_deleted_before(conn: Connection, before_ms: int) -> list[str]:
    """Runs deleted (soft) before ``before_ms``: what garbage collection removes for good."""
    return list(
        conn.execute(
            sa.select(runs.c.run_id).where(
                runs.c.lifecycle_stage == Lifecycle.DELETED, runs.c.deleted_time < before_ms
            )
        ).scalars()
    )


def purge_runs(conn: Connection, run_ids: Sequence[str]) -> None:
    """Remove runs and every row of theirs (their blobs become collectable)."""
    for table in (metrics, latest_metrics, params, tags, artifacts):
        conn.execute(table.delete().where(table.c.run_id.in_(list(run_ids))))
    conn.execute(runs.delete().where(runs.c.run_id.in_(list(run_ids))))


def referenced_digests(conn: Connection, deleted_since_ms: int) -> set[str]:
    """Digests in the artifact index of runs that are kept: live ones, and deleted ones
    deleted at or after ``deleted_since_ms``."""
    purged = sa.and_(
        runs.c.lifecycle_stage == Lifecycle.DELETED, runs.c.deleted_time < deleted_since_ms
    )
    stmt = (
        sa.select(artifacts.c.digest)
        .distinct()
        .select_from(artifacts.join(runs, runs.c.run_id == artifacts.c.run_id))
        .where(sa.not_(purged))
    )
    return set(conn.execute(stmt).scalars())


def digests_in_use(conn: Connection, digests: Sequence[str]) -> set[str]:
    """Which of ``digests`` the artifact index holds now (by ``ix_artifacts_digest``)."""
    found: set[str] = set()
    for chunk in dialect.chunks(list(digests)):
        found.update(
            conn.execute(
                sa.select(artifacts.c.digest).distinct().where(artifacts.c.digest.in_(chunk))
            ).scalars()
        )
    return found
