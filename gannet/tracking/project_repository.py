"""Which project owns an experiment or run: the SQL of tracking's permission checks."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.metadata import dialect
from gannet.tracking.tables import experiments, runs


def experiment_projects(conn: Connection, experiment_ids: Collection[str]) -> dict[str, str]:
    """experiment id -> its project, for those of ``experiment_ids`` that exist."""
    found: dict[str, str] = {}
    for chunk in dialect.chunks(sorted(set(experiment_ids))):
        found.update(conn.execute(
            sa.select(experiments.c.experiment_id, experiments.c.project)
            .where(experiments.c.experiment_id.in_(chunk))
        ).all())
    return found


def run_projects(conn: Connection, run_ids: Collection[str]) -> dict[str, str]:
    """run id -> the project of its experiment, for those of ``run_ids`` that exist."""
    found: dict[str, str] = {}
    for chunk in dialect.chunks(sorted(set(run_ids))):
        found.update(conn.execute(
            sa.select(runs.c.run_id, experiments.c.project)
            .join(experiments, experiments.c.experiment_id == runs.c.experiment_id)
            .where(runs.c.run_id.in_(chunk))
        ).all())
    return found


def count_experiments(conn: Connection, project: str) -> int:
    """How many experiments (deleted ones too) ``project`` owns."""
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(experiments)
        .where(experiments.c.project == project)
    ).scalar() or 0)
