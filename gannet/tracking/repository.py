"""Tracking's SQL: rows in, plain types out. Every function takes an open connection.

The service decides what is valid and which transaction to use; this module only knows
how the tables are shaped, so each query is written once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.store.metadata import dialect
from gannet.tracking import query
from gannet.tracking.artifact_repository import index_artifacts
from gannet.tracking.environment import Environment
from gannet.tracking.query import Comparison, OrderKey
from gannet.tracking.tables import (
    experiment_tags,
    experiments,
    latest_metrics,
    metrics,
    params,
    runs,
    tags,
)
from gannet.tracking.types import (
    Experiment,
    KeyValue,
    Lifecycle,
    Metric,
    Point,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)

# -- experiments -------------------------------------------------------------------------


def experiment_rows(
    conn: Connection,
    *,
    experiment_id: str | None = None,
    name: str | None = None,
    lifecycle: str | None = None,
    projects: frozenset[str] | None = None,
) -> list[Experiment]:
    """Experiments (with their tags), oldest first; each argument given narrows the rows
    (``projects``: only those these projects own)."""
    stmt = sa.select(experiments).order_by(experiments.c.creation_time, experiments.c.name)
    if experiment_id is not None:
        stmt = stmt.where(experiments.c.experiment_id == experiment_id)
    if name is not None:
        stmt = stmt.where(experiments.c.name == name)
    if lifecycle is not None:
        stmt = stmt.where(experiments.c.lifecycle_stage == lifecycle)
    if projects is not None:
        stmt = stmt.where(experiments.c.project.in_(sorted(projects)))
    rows = conn.execute(stmt).mappings().all()
    if not rows:
        return []
    ids = [r["experiment_id"] for r in rows]
    tag_map: dict[str, dict[str, str]] = {i: {} for i in ids}
    for eid, key, value in conn.execute(
        sa.select(
            experiment_tags.c.experiment_id, experiment_tags.c.key, experiment_tags.c.value
        ).where(experiment_tags.c.experiment_id.in_(ids))
    ):
        tag_map[eid][key] = value
    return [Experiment(**r, tags=tag_map[r["experiment_id"]]) for r in rows]


def experiment_by_name(conn: Connection, name: str) -> tuple[str, str] | None:
    """(experiment_id, lifecycle_stage) of the experiment called ``name``, if any."""
    row = conn.execute(
        sa.select(experiments.c.experiment_id, experiments.c.lifecycle_stage).where(
            experiments.c.name == name
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def experiment_state(conn: Connection, experiment_id: str) -> tuple[str, str] | None:
    """(name, lifecycle_stage) of the experiment ``experiment_id``, if it exists."""
    row = conn.execute(
        sa.select(experiments.c.name, experiments.c.lifecycle_stage).where(
            experiments.c.experiment_id == experiment_id
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def insert_experiment(
    conn: Connection, experiment_id: str, name: str, now: int, project: str = "default"
) -> bool:
    """Insert an experiment unless its name or id is taken (False then): atomic, so of two
    processes creating one name at once exactly one inserts it (PostgreSQL makes the
    second wait for the first's commit; SQLite's writers queue anyway)."""
    stmt = dialect.insert(conn, experiments).values(
        experiment_id=experiment_id,
        name=name,
        artifact_location=f"gannet:/experiments/{experiment_id}",
        lifecycle_stage=Lifecycle.ACTIVE,
        creation_time=now,
        last_update_time=now,
        project=project,
    )
    inserted = stmt.on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return bool(conn.execute(inserted).rowcount == 1)


def update_experiment(conn: Connection, experiment_id: str, **values: Any) -> None:
    conn.execute(
        experiments.update().where(experiments.c.experiment_id == experiment_id).values(**values)
    )


def set_experiment_tags(conn: Connection, experiment_id: str, values: dict[str, str]) -> None:
    if not values:
        return
    stmt = dialect.insert(conn, experiment_tags)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["experiment_id", "key"], set_={"value": stmt.excluded.value}
        ),
        [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in values.items()],
    )


# -- runs ----------------------------------------------------------------------------------


def update_run(conn: Connection, run_id: str, **values: Any) -> bool:
    """Change columns of a run; False when there is no such run."""
    result = conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))
    return result.rowcount > 0


def active_runs(conn: Connection, run_ids: Iterable[str]) -> set[str]:
    """Which of ``run_ids`` exist and are not deleted."""
    wanted = list(run_ids)
    if len(wanted) == 1:  # every flush of one run: driver SQL, no statement to build
        mark = dialect.marker(conn)
        sql = (f"SELECT run_id FROM {runs.name} WHERE run_id = {mark} "
               f"AND lifecycle_stage = {mark}")
        found = conn.exec_driver_sql(sql, (wanted[0], Lifecycle.ACTIVE.value)).first()
        return {found[0]} if found else set()
    return set(
        conn.execute(
            sa.select(runs.c.run_id).where(
                runs.c.run_id.in_(wanted), runs.c.lifecycle_stage == Lifecycle.ACTIVE
            )
        ).scalars()
    )


def run_info_rows(conn: Connection, run_ids: Sequence[str]) -> dict[str, RunInfo]:
    result: dict[str, RunInfo] = {}
    for chunk in dialect.chunks(run_ids, 900):
        for r in conn.execute(sa.select(runs).where(runs.c.run_id.in_(chunk))).mappings():
            result[r["run_id"]] = RunInfo(
                run_id=r["run_id"],
                experiment_id=r["experiment_id"],
                run_name=r["name"],
                status=RunStatus(r["status"]),
                start_time=r["start_time"],
                end_time=r["end_time"],
                parent_run_id=r["parent_run_id"],
                user_id=r["user_id"],
                source_name=r["source_name"],
                source_type=r["source_type"],
                git_commit=r["git_commit"],
                lifecycle_stage=r["lifecycle_stage"],
                artifact_uri=r["artifact_uri"],
            )
    return result


def insert_run(conn: Connection, values: Mapping[str, Any]) -> None:
    """One new row of ``runs`` (every column given)."""
    row = tuple(values[c.name] for c in runs.columns)
    _run_hot(conn, "runs", [tuple(v.value if isinstance(v, Enum) else v for v in row)])


_RUN_STAGE = sa.select(runs.c.lifecycle_stage).where(runs.c.run_id == sa.bindparam("run_id"))


def run_stage(conn: Connection, run_id: str) -> str | None:
    """The run's lifecycle stage, None when there is no such run (built once: every
    write checks it)."""
    return conn.execute(_RUN_STAGE, {"run_id": run_id}).scalar()


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Whole runs (info, latest metrics, params, tags) in the order of ``run_ids``."""
    infos = run_info_rows(conn, run_ids)
    data: dict[str, RunData] = {rid: RunData() for rid in infos}
    for chunk in dialect.chunks(list(infos), 900):
        for rid, key, value in conn.execute(
            sa.select(params.c.run_id, params.c.key, params.c.value).where(
                params.c.run_id.in_(chunk)
            )
        ):
            data[rid].params[key] = value
        for rid, key, value in conn.execute(
            sa.select(tags.c.run_id, tags.c.key, tags.c.value).where(tags.c.run_id.in_(chunk))
        ):
            data[rid].tags[key] = value
        for rid, key, value, is_nan in conn.execute(
            sa.select(
                latest_metrics.c.run_id,
                latest_metrics.c.key,
                latest_metrics.c.value,
                latest_metrics.c.is_nan,
            ).where(latest_metrics.c.run_id.in_(chunk))
        ):
            data[rid].metrics[key] = math.nan if is_nan else value
    return [Run(infos[rid], data[rid]) for rid in run_ids if rid in infos]


def attach_environments(
    conn: Connection, rows: Sequence[tuple[str, Environment, Sequence[tuple[str, str, int]]]]
) -> None:
    """(run_id, environment, its stored files) of runs created without their environment:
    its tags, its git commit (unless the run has one) and its files, as ``create_run``
    stores them."""
    set_tags(conn, [(run_id, k, v) for run_id, env, _ in rows for k, v in env.tags().items()])
    commits = [
        {"b_run_id": run_id, "b_commit": env.git.commit} for run_id, env, _ in rows if env.git
    ]
    if commits:
        conn.execute(
            runs.update()
            .where(runs.c.run_id == sa.bindparam("b_run_id"), runs.c.git_commit.is_(None))
            .values(git_commit=sa.bindparam("b_commit")),
            commits,
        )
    for run_id, _, files in rows:
        index_artifacts(conn, run_id, files)


# -- search ---------------------------------------------------------------------------------

# A filter on a metric, param or tag matching fewer rows than this is read first on SQLite
# (see ``search_statement``).
FEW_MATCHES = 10_000


def search_statement(
    conn: Connection,
    experiment_ids: Sequence[str],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderKey],
    lifecycle: str,
    limit: int,
    offset: int,
    *,
    valued: bool = False,
) -> sa.Select[Any]:
    """The SELECT of run ids that ``search_runs`` runs, shaped for this database
    (``valued``: see ``query.search_statement``).

    A search walks the runs in the order of an index and probes each filter. When a
    filter matches few rows that walk could be long, so its runs should be read first and
    sorted. PostgreSQL's planner weighs that with its statistics, except for a param or
    tag LIKE (its index holds short values only, so the query must read short and long
    values apart, which the planner cannot also walk); SQLite's planner cannot weigh it
    at all. So those filters' matches are counted (up to ``FEW_MATCHES``, on the
    ``(key, value)`` index) and the rarest one under that drives.
    """
    postgresql = conn.dialect.name == "postgresql"
    driver = None
    fewest = FEW_MATCHES
    sorted_keys = query.sorted_keys_of(order)
    for comparison in comparisons:
        if postgresql and not (comparison.op == "LIKE" and comparison.entity != "metric"):
            continue
        if query.can_drive(comparison, sorted_keys):
            found = conn.execute(query.matching_rows(comparison, FEW_MATCHES)).scalar_one()
            if found < fewest:
                driver, fewest = comparison, found
    return query.search_statement(
        experiment_ids, comparisons, order, lifecycle, limit, offset, driver=driver,
        valued=valued, split_long=postgresql,
    )


def plan_searches(conn: Connection) -> None:
    """Planner settings for the searches of this transaction (PostgreSQL): the best plan
    depends on the values (how many runs a filter matches), so each search is planned with
    them, never with the generic plan of a prepared statement; and a page is a short index
    walk, which parallel workers only slow down."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "SET LOCAL plan_cache_mode = force_custom_plan; "
            "SET LOCAL max_parallel_workers_per_gather = 0"
        )


def search_run_ids(
    conn: Connection,
    experiment_ids: Sequence[str],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderKey],
    lifecycle: str,
    limit: int,
    offset: int,
) -> list[str]:
    """The run ids of one page of a search.

    Sorted on a metric, param or tag that is not filtered, the page is first looked for
    among the runs that have a value for it (which its index gives in order); only when
    that is not a whole page (it reaches the runs missing the key, which sort last) does
    the search sort every run.
    """
    args = (experiment_ids, comparisons, order, lifecycle, limit, offset)
    plan_searches(conn)
    if query.sorts_on_unfiltered_key(order, comparisons):
        head = list(conn.execute(search_statement(conn, *args, valued=True)).scalars())
        if len(head) == limit:
            return head
    return list(conn.execute(search_statement(conn, *args)).scalars())


# -- params, tags, metrics ----------------------------------------------------------------


def insert_params(conn: Connection, rows: Sequence[KeyValue]) -> dict[tuple[str, str], str]:
    """Insert params that are new; return the stored value of every (run, key) asked about.

    Insert-if-absent then read back is race-free across processes: whoever inserts a key
    first wins, and everyone else sees that value and can report a conflict.
    """
    if not rows:
        return {}
    inserted = _run_hot(conn, "params", rows).rowcount
    if inserted == len(rows):  # every row was new: the stored values are the given ones
        return {(r, k): v for r, k, v in rows}
    stored: dict[tuple[str, str], str] = {}
    by_run: dict[str, list[str]] = {}
    for run_id, key, _ in rows:
        by_run.setdefault(run_id, []).append(key)
    for run_id, keys in by_run.items():
        for chunk in dialect.chunks(keys, 900):
            found = conn.execute(
                sa.select(params.c.key, params.c.value).where(
                    params.c.run_id == run_id, params.c.key.in_(chunk)
                )
            )
            stored.update(((run_id, key), value) for key, value in found)
    return stored


def params_of(conn: Connection, run_id: str) -> dict[str, str]:
    rows = conn.execute(sa.select(params.c.key, params.c.value).where(params.c.run_id == run_id))
    return {key: value for key, value in rows}


def delete_tag(conn: Connection, run_id: str, key: str) -> bool:
    """Remove a run's tag; False when it had none of that key."""
    result = conn.execute(tags.delete().where(tags.c.run_id == run_id, tags.c.key == key))
    return result.rowcount > 0


def set_tags(conn: Connection, rows: Sequence[KeyValue]) -> None:
    """Upsert (run_id, key, value) tags; for a key given twice the last value wins."""
    latest = {(r, k): v for r, k, v in rows}
    if not latest:
        return
    _run_hot(conn, "tags", [(r, k, v) for (r, k), v in latest.items()])


def insert_points(conn: Connection, points: Sequence[Point]) -> None:
    """Append points to the history and move each (run, key)'s latest value forward.

    The latest value is the point with the greatest (step, timestamp, value); the upsert
    only overwrites a stored latest that is smaller, so concurrent writers converge.
    """
    if not points:
        return
    # The hot path: plain DB-API executemany over tuples, ~3x faster than dict rows; the
    # latest point per (run, key) is found in the same pass.
    rows = []
    latest: dict[tuple[str, str], Point] = {}
    for point in points:
        run_id, key, value, ts, step = point
        nan = value != value
        rows.append((run_id, key, None if nan else value, nan, ts, step))
        best = latest.get((run_id, key))
        if best is None or step > best[4] or (step == best[4] and _later(point, best)):
            latest[(run_id, key)] = point
    _run_hot(conn, "metrics", rows)
    _run_hot(
        conn,
        "latest_metrics",
        [
            (run_id, key, None if value != value else value, value != value, ts, step)
            for run_id, key, value, ts, step in latest.values()
        ],
    )


# The statements of every flush run as driver SQL over tuples: each is compiled once per
# process and dialect (SQLAlchemy's compiled cache is per engine, so a new store would
# compile them again) and its rows skip SQLAlchemy's per-row parameter handling.
_HOT_SQL: dict[tuple[str, str], str] = {}


def _run_hot(conn: Connection, name: str, rows: Sequence[tuple[Any, ...]]) -> Any:
    """executemany of the hot statement ``name`` over ``rows`` (tuples in column order)."""
    sql = _HOT_SQL.get((conn.dialect.name, name))
    if sql is None:
        sql = _HOT_SQL[conn.dialect.name, name] = _positional_sql(conn, _HOT[name](conn))
    return conn.exec_driver_sql(sql, rows if isinstance(rows, list) else list(rows))


def _positional_sql(conn: Connection, statement: Any) -> str:
    """The driver's SQL of ``statement`` with positional markers, in the table's column
    order (qmark for SQLite, format for psycopg)."""
    compiled = statement.compile(dialect=conn.dialect)
    columns = [c.name for c in statement.table.columns if c.name in compiled.binds]
    if conn.dialect.paramstyle == "qmark":
        assert list(compiled.positiontup) == columns, compiled.positiontup
        return compiled.string
    names = re.findall(r"%\((\w+)\)s", compiled.string)
    assert names == columns, names
    return re.sub(r"%\((\w+)\)s", "%s", compiled.string)


def _metrics_insert(conn: Connection) -> Any:
    return sa.insert(metrics).inline().values({c: sa.bindparam(c) for c in _POINT_COLUMNS})


def _params_insert(conn: Connection) -> Any:  # first value wins: params are immutable
    return dialect.insert(conn, params).on_conflict_do_nothing(index_elements=["run_id", "key"])


def _tags_upsert(conn: Connection) -> Any:  # last value wins
    stmt = dialect.insert(conn, tags)
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
    )


def _latest_upsert(conn: Connection) -> Any:
    """Move a stored latest value forward only when the new point is later."""
    stmt = dialect.insert(conn, latest_metrics)
    ex, cur = stmt.excluded, latest_metrics.c
    newer = sa.or_(
        ex.step > cur.step,
        sa.and_(ex.step == cur.step, ex.timestamp > cur.timestamp),
        sa.and_(ex.step == cur.step, ex.timestamp == cur.timestamp, ex.value > cur.value),
        sa.and_(
            ex.step == cur.step, ex.timestamp == cur.timestamp, cur.is_nan, sa.not_(ex.is_nan)
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={c: getattr(ex, c) for c in ("value", "is_nan", "timestamp", "step")},
        where=newer,
    )


_POINT_COLUMNS = ("run_id", "key", "value", "is_nan", "timestamp", "step")
_HOT = {
    "runs": lambda conn: sa.insert(runs).inline(),
    "metrics": _metrics_insert,
    "params": _params_insert,
    "tags": _tags_upsert,
    "latest_metrics": _latest_upsert,
}


def _later(a: Point, b: Point) -> bool:
    if (a[4], a[3]) != (b[4], b[3]):
        return (a[4], a[3]) > (b[4], b[3])
    if b[2] != b[2]:  # at a tie a number displaces a NaN, never the other way round
        return a[2] == a[2]
    return a[2] > b[2]


def metric_history(
    conn: Connection, run_id: str, key: str, *, offset: int = 0, limit: int | None = None
) -> list[Metric]:
    rows = conn.execute(
        sa.select(metrics.c.value, metrics.c.is_nan, metrics.c.timestamp, metrics.c.step)
        .where(metrics.c.run_id == run_id, metrics.c.key == key)
        .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)
        .offset(offset or None).limit(limit)
    )
    return [
        Metric(key, math.nan if is_nan else value, ts, step) for value, is_nan, ts, step in rows
    ]
