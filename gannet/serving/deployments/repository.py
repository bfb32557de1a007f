"""Deployments' SQL: rows in, plain types out. Every function takes an open connection.

The service decides what is valid and which transaction a change runs in; this module
only knows how the two tables are shaped (see ``tables``), so each query is written once.
A revision's ``state`` column is JSON of one versioned shape (``STATE_FORMAT``); a state
written by a newer Gannet is refused, never half-read.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.core.errors import Conflict, InvalidState
from gannet.serving.deployments.tables import deployment_revisions, deployments
from gannet.serving.deployments.types import (
    STATE_FORMAT,
    DeploymentInfo,
    DeploymentState,
    Route,
)

__all__ = [
    "Duplicate",
    "count_deployments",
    "current_state",
    "delete_deployment",
    "deployment_exists",
    "deployment_info",
    "history",
    "insert_deployment",
    "insert_revision",
    "list_states",
    "lock_deployment",
    "move_current_revision",
    "revision_state",
]

# What an insert of an existing primary key raises (the metadata store translates the
# database's unique violation): someone else wrote it at the same moment.
Duplicate = Conflict

_ROW = (  # what makes a DeploymentState: the deployment and one of its revisions
    deployments.c.name,
    deployments.c.model,
    deployment_revisions.c.revision,
    deployment_revisions.c.state,
    deployment_revisions.c.reason,
    deployment_revisions.c.user_id,
    deployment_revisions.c.time,
    deployments.c.project,
)
_REVISIONS = (
    sa.select(*_ROW)
    .select_from(deployments)
    .join(deployment_revisions, deployment_revisions.c.name == deployments.c.name)
)
_CURRENT = _REVISIONS.where(deployment_revisions.c.revision == deployments.c.current_revision)
_CURRENT_ONE = _CURRENT.where(deployments.c.name == sa.bindparam("name"))
_INFO_ONE = _CURRENT_ONE.add_columns(
    deployments.c.description, deployments.c.created_by, deployments.c.creation_time
)

# -- reading -------------------------------------------------------------------------------


def current_state(conn: Connection, name: str) -> DeploymentState | None:
    """The deployment's current state: one query joining two rows by primary keys."""
    row = conn.execute(_CURRENT_ONE, {"name": name}).first()
    return None if row is None else _state(row)


def deployment_info(conn: Connection, name: str) -> DeploymentInfo | None:
    """The current state with the deployment's description and creator (``resolved`` empty:
    what refs resolve to is the registry's to say)."""
    row = conn.execute(_INFO_ONE, {"name": name}).first()
    if row is None:
        return None
    description, created_by, creation_time = row[len(_ROW):]
    return DeploymentInfo(_state(row[:len(_ROW)]), description, created_by, creation_time, {})


def list_states(
    conn: Connection, model: str | None = None, projects: frozenset[str] | None = None
) -> list[DeploymentState]:
    """Every deployment's current state by name (only ``model``'s when given, only those
    ``projects`` own when given)."""
    stmt = _CURRENT.order_by(deployments.c.name)
    if model is not None:
        stmt = stmt.where(deployments.c.model == model)
    if projects is not None:
        stmt = stmt.where(deployments.c.project.in_(sorted(projects)))
    return [_state(row) for row in conn.execute(stmt)]


def history(conn: Connection, name: str) -> list[DeploymentState]:
    """Every revision of the deployment, newest first (empty when it does not exist)."""
    stmt = _REVISIONS.where(deployments.c.name == name).order_by(
        deployment_revisions.c.revision.desc()
    )
    return [_state(row) for row in conn.execute(stmt)]


def revision_state(conn: Connection, name: str, revision: int) -> DeploymentState | None:
    stmt = _REVISIONS.where(
        deployments.c.name == name, deployment_revisions.c.revision == revision
    )
    row = conn.execute(stmt).first()
    return None if row is None else _state(row)


def deployment_exists(conn: Connection, name: str) -> bool:
    found = conn.execute(sa.select(deployments.c.name).where(deployments.c.name == name))
    return found.first() is not None


def count_deployments(conn: Connection, project: str) -> int:
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(deployments)
        .where(deployments.c.project == project)
    ).scalar() or 0)


def lock_deployment(conn: Connection, name: str) -> bool:
    """Lock the deployment's row until the transaction ends; False when there is none.

    Only the row, on purpose: PostgreSQL re-checks a locked row after waiting, and a join
    would then compare the new current revision with the old revision row. Read the state
    with ``current_state`` afterwards.
    """
    locked = conn.execute(
        sa.select(deployments.c.current_revision)
        .where(deployments.c.name == name)
        .with_for_update()
    ).first()
    return locked is not None


# -- writing -------------------------------------------------------------------------------


def insert_deployment(conn: Connection, state: DeploymentState, description: str) -> None:
    """A new deployment at revision 1 (``state``), created by its ``updated_by``."""
    conn.execute(
        deployments.insert().values(
            name=state.name,
            model=state.model,
            description=description,
            current_revision=state.revision,
            created_by=state.updated_by,
            creation_time=state.updated_time,
            last_update_time=state.updated_time,
            project=state.project,
        )
    )
    insert_revision(conn, state)


def insert_revision(conn: Connection, state: DeploymentState) -> None:
    conn.execute(
        deployment_revisions.insert().values(
            name=state.name,
            revision=state.revision,
            state=_state_json(state),
            reason=state.reason,
            user_id=state.updated_by,
            time=state.updated_time,
        )
    )


def move_current_revision(
    conn: Connection, name: str, from_revision: int, to_revision: int, time: int
) -> bool:
    """Make ``to_revision`` current if ``from_revision`` still is; False when it was not."""
    moved = conn.execute(
        deployments.update()
        .where(deployments.c.name == name, deployments.c.current_revision == from_revision)
        .values(current_revision=to_revision, last_update_time=time)
    )
    return moved.rowcount == 1


def delete_deployment(conn: Connection, name: str) -> None:
    """The deployment's row and every revision of it."""
    conn.execute(deployment_revisions.delete().where(deployment_revisions.c.name == name))
    conn.execute(deployments.delete().where(deployments.c.name == name))


# -- rows and JSON -------------------------------------------------------------------------


def _state(row: Any) -> DeploymentState:
    name, model, revision, text, reason, user, time, project = row
    doc = json.loads(text)
    if doc.get("format") != STATE_FORMAT:
        raise InvalidState(
            f"revision {revision} of deployment {name!r} has state format {doc.get('format')!r}; "
            f"this Gannet reads format {STATE_FORMAT}",
            "upgrade gannet (pip install -U gannet)",
        )
    return DeploymentState(
        name=name,
        model=model,
        routes=tuple(Route(r["ref"], float(r["weight"])) for r in doc["routes"]),
        shadows=tuple(doc.get("shadows", ())),
        sticky_key=doc.get("sticky_key"),
        revision=revision,
        updated_time=time,
        updated_by=user,
        reason=reason,
        log_masked=tuple(doc.get("log_masked", ())),
        log_hashed=tuple(doc.get("log_hashed", ())),
        project=project,
        features=tuple(doc.get("features", ())),
        features_on_unavailable=doc.get("features_on_unavailable", "error"),
        feature_defaults=tuple((k, v) for k, v in doc.get("feature_defaults", {}).items()),
    )


def _state_json(state: DeploymentState) -> str:
    return json.dumps(
        {
            "format": STATE_FORMAT,
            "routes": [{"ref": r.ref, "weight": r.weight} for r in state.routes],
            "shadows": list(state.shadows),
            "sticky_key": state.sticky_key,
            "log_masked": list(state.log_masked),
            "log_hashed": list(state.log_hashed),
            "features": list(state.features),
            "features_on_unavailable": state.features_on_unavailable,
            "feature_defaults": dict(state.feature_defaults),
        },
        sort_keys=True,
    )
