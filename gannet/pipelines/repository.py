"""Pipelines' SQL: rows in, plain types out. Every function takes an open connection."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.pipelines.materializers import StoredValue
from gannet.pipelines.tables import (
    pipeline_cache,
    pipeline_runs,
    pipeline_schedule_firings,
    pipeline_schedules,
    pipeline_steps,
)
from gannet.pipelines.types import Firing, PipelineRun, Schedule, StepResult
from gannet.store.metadata import dialect


def _outputs_json(outputs: dict[str, StoredValue]) -> str:
    return json.dumps({k: v.to_dict() for k, v in outputs.items()}, sort_keys=True)


def _outputs(text: str) -> dict[str, StoredValue]:
    return {k: StoredValue.from_dict(v) for k, v in json.loads(text).items()}


def insert_run(conn: Connection, run: PipelineRun) -> None:
    conn.execute(pipeline_runs.insert().values(
        run_id=run.run_id, pipeline=run.pipeline, target=run.target,
        params=json.dumps(run.params, default=str), executor=run.executor, status=run.status,
        start_time=run.start_time, end_time=run.end_time, schedule_id=run.schedule_id,
    ))


def update_run(conn: Connection, run_id: str, **values: Any) -> None:
    conn.execute(pipeline_runs.update().where(pipeline_runs.c.run_id == run_id).values(**values))


def save_step(conn: Connection, run_id: str, position: int, step: StepResult) -> None:
    """Insert or replace the row of one step of a run."""
    conn.execute(pipeline_steps.delete().where(
        (pipeline_steps.c.run_id == run_id) & (pipeline_steps.c.step == step.name)))
    conn.execute(pipeline_steps.insert().values(
        run_id=run_id, step=step.name, position=position, status=step.status,
        cached=step.cached, step_run_id=step.step_run_id, cache_key=step.cache_key,
        outputs=_outputs_json(step.outputs), error=step.error, traceback=step.traceback,
        duration_s=step.duration_s, attempts=step.attempts,
    ))


def load_run(conn: Connection, run_id: str) -> PipelineRun | None:
    row = conn.execute(sa.select(pipeline_runs).where(pipeline_runs.c.run_id == run_id)).first()
    if row is None:
        return None
    steps = conn.execute(sa.select(pipeline_steps).where(pipeline_steps.c.run_id == run_id)
                         .order_by(pipeline_steps.c.position)).all()
    return PipelineRun(
        run_id=row.run_id, pipeline=row.pipeline, status=row.status,
        steps=[_step(s) for s in steps], params=json.loads(row.params), target=row.target,
        executor=row.executor, start_time=row.start_time, end_time=row.end_time,
        schedule_id=row.schedule_id,
    )


def _step(row: Any) -> StepResult:
    return StepResult(
        name=row.step, status=row.status, cached=bool(row.cached), duration_s=row.duration_s,
        step_run_id=row.step_run_id, cache_key=row.cache_key, outputs=_outputs(row.outputs),
        error=row.error, traceback=row.traceback, attempts=row.attempts,
    )


def runs_of_schedule(conn: Connection, schedule_id: str) -> dict[str, str]:
    """run id -> status of the runs a schedule started."""
    rows = conn.execute(sa.select(pipeline_runs.c.run_id, pipeline_runs.c.status)
                        .where(pipeline_runs.c.schedule_id == schedule_id))
    return {r.run_id: r.status for r in rows}


# -- the cache -------------------------------------------------------------------------------


def cached_outputs(conn: Connection, keys: Iterable[str]
                   ) -> dict[str, tuple[dict[str, StoredValue], str]]:
    """key -> (the outputs stored under it, the step run that computed them)."""
    keys = list(keys)
    if not keys:
        return {}
    rows = conn.execute(sa.select(pipeline_cache.c.cache_key, pipeline_cache.c.outputs,
                                  pipeline_cache.c.step_run_id)
                        .where(pipeline_cache.c.cache_key.in_(keys)))
    return {r.cache_key: (_outputs(r.outputs), r.step_run_id) for r in rows}


def put_cached(conn: Connection, key: str, outputs: dict[str, StoredValue], step_run_id: str,
               now: int) -> None:
    """Upsert: two runs that compute the same step at once (a sweep's trials) both store it,
    and the later one's entry stands."""
    stmt = dialect.insert(conn, pipeline_cache).values(
        cache_key=key, outputs=_outputs_json(outputs), step_run_id=step_run_id, created_time=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["cache_key"],
        set_={c: stmt.excluded[c] for c in ("outputs", "step_run_id", "created_time")}))


def referenced_outputs(conn: Connection, since_ms: int | None = None) -> dict[str, str]:
    """digest -> materializer of every stored output (with ``since_ms``: of runs and cache
    entries made at or after it)."""
    found: dict[str, str] = {}
    steps = sa.select(pipeline_steps.c.outputs)
    cache = sa.select(pipeline_cache.c.outputs)
    if since_ms is not None:
        recent = sa.select(pipeline_runs.c.run_id).where(
            sa.func.coalesce(pipeline_runs.c.end_time, pipeline_runs.c.start_time) >= since_ms)
        steps = steps.where(pipeline_steps.c.run_id.in_(recent))
        cache = cache.where(pipeline_cache.c.created_time >= since_ms)
    for query in (steps, cache):
        for (text,) in conn.execute(query):
            found.update((v.digest, v.materializer) for v in _outputs(text).values())
    return found


# -- schedules -------------------------------------------------------------------------------


def insert_schedule(conn: Connection, schedule: Schedule) -> None:
    conn.execute(pipeline_schedules.insert().values(
        schedule_id=schedule.schedule_id, target=schedule.target, cron=schedule.cron,
        dataset=schedule.dataset,
        params=json.dumps(schedule.params), executor=schedule.executor,
        created_time=schedule.created_time,
    ))


def delete_schedule(conn: Connection, schedule_id: str) -> bool:
    conn.execute(pipeline_schedule_firings.delete().where(
        pipeline_schedule_firings.c.schedule_id == schedule_id))
    done = conn.execute(pipeline_schedules.delete().where(
        pipeline_schedules.c.schedule_id == schedule_id))
    return bool(done.rowcount)


def list_schedules(conn: Connection) -> list[Schedule]:
    rows = conn.execute(sa.select(pipeline_schedules).order_by(pipeline_schedules.c.created_time))
    return [Schedule(r.schedule_id, r.target, r.cron, json.loads(r.params), r.executor,
                     r.created_time, r.dataset) for r in rows]


def claim_window(conn: Connection, firing: Firing) -> bool:
    """Insert the firing of one window; False when another scheduler holds it already."""
    taken = conn.execute(sa.select(pipeline_schedule_firings.c.holder).where(
        (pipeline_schedule_firings.c.schedule_id == firing.schedule_id)
        & (pipeline_schedule_firings.c.window_time == firing.window_time))).first()
    if taken is not None:
        return False
    conn.execute(pipeline_schedule_firings.insert().values(
        schedule_id=firing.schedule_id, window_time=firing.window_time,
        fired_time=firing.fired_time, holder=firing.holder, run_id=None, status=firing.status))
    return True


def last_window(conn: Connection, schedule_id: str) -> int | None:
    return conn.execute(sa.select(sa.func.max(pipeline_schedule_firings.c.window_time)).where(
        pipeline_schedule_firings.c.schedule_id == schedule_id)).scalar_one()


def finish_firing(conn: Connection, schedule_id: str, window: int, run_id: str | None,
                  status: str) -> None:
    conn.execute(pipeline_schedule_firings.update().where(
        (pipeline_schedule_firings.c.schedule_id == schedule_id)
        & (pipeline_schedule_firings.c.window_time == window)).values(run_id=run_id,
                                                                      status=status))


def firings(conn: Connection, schedule_id: str | None = None) -> list[Firing]:
    query = sa.select(pipeline_schedule_firings).order_by(
        pipeline_schedule_firings.c.window_time.desc())
    if schedule_id is not None:
        query = query.where(pipeline_schedule_firings.c.schedule_id == schedule_id)
    return [Firing(r.schedule_id, r.window_time, r.fired_time, r.holder, r.run_id, r.status)
            for r in conn.execute(query)]
