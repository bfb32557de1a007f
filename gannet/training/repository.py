"""All of continuous training's SQL: policies and their state, decisions, the lease."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gannet.training.tables import training_decisions, training_leases, training_policies
from gannet.training.types import Decision, Phase, PolicyStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "acquire_lease", "decisions", "delete_policy", "get_policy", "insert_decision",
    "list_policies", "policy_source", "put_policy", "release_lease", "save_state",
    "set_paused",
]


def _status(row: Any) -> PolicyStatus:
    return PolicyStatus(name=row.name, model=row.model, phase=Phase(row.phase),
                        stage=row.stage, paused=bool(row.paused), data=json.loads(row.data),
                        updated_time=row.updated_time, applied_time=row.applied_time,
                        revision=row.revision)


def get_policy(conn: Connection, name: str) -> PolicyStatus | None:
    row = conn.execute(sa.select(training_policies).where(
        training_policies.c.name == name)).first()
    return None if row is None else _status(row)


def policy_source(conn: Connection, name: str) -> tuple[str, str] | None:
    """(the YAML as applied, the folder its relative paths are read from)."""
    row = conn.execute(sa.select(training_policies.c.source, training_policies.c.folder)
                       .where(training_policies.c.name == name)).first()
    return None if row is None else (row.source, row.folder)


def list_policies(conn: Connection) -> list[tuple[PolicyStatus, str, str]]:
    """Every policy by name: (status, YAML, folder)."""
    rows = conn.execute(sa.select(training_policies).order_by(training_policies.c.name))
    return [(_status(r), r.source, r.folder) for r in rows]


def put_policy(conn: Connection, name: str, model: str, source: str, folder: str,
               now: int, data: dict[str, Any]) -> bool:
    """Insert the policy, or replace its YAML (its loop's state stays); True if new."""
    values = {"model": model, "source": source, "folder": folder, "updated_time": now}
    updated = conn.execute(training_policies.update().where(
        training_policies.c.name == name).values(
            **values, revision=training_policies.c.revision + 1)).rowcount
    if updated:
        return False
    conn.execute(training_policies.insert().values(
        name=name, phase=Phase.IDLE.value, stage=0, paused=False, data=json.dumps(data),
        revision=1, applied_time=now, **values))
    return True


def save_state(conn: Connection, name: str, revision: int, phase: Phase, stage: int,
               data: dict[str, Any], now: int) -> bool:
    """Write the loop's state if nobody wrote since ``revision`` was read; False if not."""
    return bool(conn.execute(training_policies.update().where(
        training_policies.c.name == name, training_policies.c.revision == revision).values(
            phase=phase.value, stage=stage, data=json.dumps(data), updated_time=now,
            revision=revision + 1)).rowcount)


def set_paused(conn: Connection, name: str, paused: bool, now: int) -> bool:
    return bool(conn.execute(training_policies.update().where(
        training_policies.c.name == name).values(
            paused=paused, updated_time=now,
            revision=training_policies.c.revision + 1)).rowcount)


def delete_policy(conn: Connection, name: str) -> bool:
    return bool(conn.execute(training_policies.delete().where(
        training_policies.c.name == name)).rowcount)


def insert_decision(conn: Connection, decision: Decision) -> None:
    conn.execute(training_decisions.insert().values(
        id=decision.id, policy=decision.policy, action=decision.action,
        reason=decision.reason, numbers=json.dumps(decision.numbers, default=str),
        cycle=decision.cycle, at=decision.at))


def decisions(conn: Connection, policy: str | None, limit: int) -> list[Decision]:
    """Newest first."""
    stmt = sa.select(training_decisions).order_by(training_decisions.c.id.desc()).limit(limit)
    if policy is not None:
        stmt = stmt.where(training_decisions.c.policy == policy)
    return [Decision(r.id, r.policy, r.action, r.reason, json.loads(r.numbers), r.at, r.cycle)
            for r in conn.execute(stmt)]


def acquire_lease(conn: Connection, name: str, holder: str, now: int, until: int) -> str:
    """Take or renew lease ``name`` for ``holder`` when it is free, expired or already
    theirs; who holds it afterwards. The update is conditional, so of two callers at
    once only one gets it; an insert that loses to another raises ``Conflict``."""
    taken = conn.execute(training_leases.update().where(
        training_leases.c.name == name,
        sa.or_(training_leases.c.holder == holder, training_leases.c.expires_time < now),
    ).values(holder=holder, expires_time=until, acquired_time=sa.case(
        (training_leases.c.holder == holder, training_leases.c.acquired_time), else_=now,
    ))).rowcount
    if taken:
        return holder
    row = conn.execute(sa.select(training_leases.c.holder).where(
        training_leases.c.name == name)).first()
    if row is not None:
        return str(row.holder)
    conn.execute(training_leases.insert().values(name=name, holder=holder,
                                                 expires_time=until, acquired_time=now))
    return holder


def release_lease(conn: Connection, name: str, holder: str) -> None:
    conn.execute(training_leases.delete().where(training_leases.c.name == name,
                                                training_leases.c.holder == holder))
