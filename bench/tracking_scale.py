"""``bench/tracking.py --scale``: run search at 1,000,000 runs on SQLite and PostgreSQL.

Each backend gets a store migrated by Gannet, then filled with fast bulk SQL straight into
the tracking tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL; the secondary
indexes are dropped for the load and built again after it, as a bulk load does). The
shape: 4 experiments (the searched one, "1", holds 70% of the runs), and per run 5 params,
5 latest metrics (1% of ``m0`` NaN), 2 tags, a distinct start time, ids made as Gannet
makes them (time-ordered), 85% FINISHED, 2% deleted. No metric history: search never reads
it. PostgreSQL is VACUUM ANALYZEd after the load (autovacuum would do it within minutes);
SQLite is not (Gannet never runs ANALYZE there: its plans rest on the fixed statistics
that migration 0004 writes, which the load keeps).

Then every query shape the SDK, the CLI and the UI issue goes through
``TrackingService.search_runs(max_results=100)``: median of ``--scale-repeats`` calls after
one warm-up, with the plan (``EXPLAIN QUERY PLAN`` / ``EXPLAIN``) of the statement it runs.
The goal is under 20 ms for each.

    bench/.venv/bin/python bench/tracking.py --scale                    # both backends
    bench/.venv/bin/python bench/tracking.py --scale --scale-runs 100000 --backends sqlite
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCALE_RUNS = 1_000_000
SCALE_REPEATS = 7
GOAL_MS = 20.0
CHUNK = 50_000
EXPERIMENTS = ("1", "2", "3", "4")
SEARCHED = "1"
BASE_TIME = 1_700_000_000_000
ADJECTIVES = "amber agile bold brave bright brisk calm clever crisp daring eager fast".split()
NOUNS = "auk crane egret gannet heron ibis loon pelican petrel puffin skua tern".split()
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


# -- the data ----------------------------------------------------------------------------------


def run_chunk(rng: random.Random, first: int, count: int, total: int) -> dict[str, list[tuple]]:
    """Rows of runs first..first+count (``total`` runs in all), one list per table."""
    out: dict[str, list[tuple]] = {"runs": [], "params": [], "latest_metrics": [], "tags": []}
    for i in range(first, first + count):
        start = BASE_TIME + i * 1000 + rng.randrange(1000)  # distinct, increasing with i
        run_id = f"{start:012x}{rng.getrandbits(79):020x}"
        roll = rng.random()
        experiment = SEARCHED if roll < 0.7 else EXPERIMENTS[1 + int((roll - 0.7) * 10) % 3]
        status = "FINISHED" if rng.random() < 0.85 else rng.choice(("FAILED", "KILLED", "RUNNING"))
        name = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{rng.randrange(1000)}"
        stage = "deleted" if rng.random() < 0.02 else "active"
        out["runs"].append((
            run_id, experiment, name, status, start, start + 60_000, None, "ann", "train.py",
            "LOCAL", None, stage, f"gannet:/runs/{run_id}/artifacts",
        ))
        out["params"] += [
            (run_id, "p0", str(rng.randrange(10))),
            (run_id, "p1", str(rng.randrange(100))),
            (run_id, "p2", f"{rng.random():.4f}"),
            (run_id, "p3", rng.choice(OPTIMIZERS)),
            (run_id, "p4", f"seed-{i}"),
        ]
        nan = rng.random() < 0.01
        out["latest_metrics"] += [
            (run_id, f"m{k}", None if (k == 0 and nan) else rng.random(), k == 0 and nan,
             start, 100)
            for k in range(5)
        ]
        out["tags"] += [(run_id, "t0", f"team-{rng.randrange(7)}"),
                        (run_id, "t1", f"note-{rng.randrange(total)}")]
    return out


def chunks(total: int, seed: int = 42) -> Iterator[dict[str, list[tuple]]]:
    rng = random.Random(seed)
    for first in range(0, total, CHUNK):
        yield run_chunk(rng, first, min(CHUNK, total - first), total)


COLUMNS = {
    "runs": ("run_id", "experiment_id", "name", "status", "start_time", "end_time",
             "parent_run_id", "user_id", "source_name", "source_type", "git_commit",
             "lifecycle_stage", "artifact_uri"),
    "params": ("run_id", "key", "value"),
    "latest_metrics": ("run_id", "key", "value", "is_nan", "timestamp", "step"),
    "tags": ("run_id", "key", "value"),
}  # fmt: skip


# -- loading -------------------------------------------------------------------------------------


def secondary_indexes() -> list[Any]:
    """The non-primary-key indexes of the loaded tables, as Gannet's tables declare them."""
    import gannet.tracking.tables as t

    return [ix for table in (t.runs, t.params, t.latest_metrics, t.tags) for ix in table.indexes]


def load(url: str, total: int, say: Any) -> float:
    """Fill the migrated store at ``url`` with ``total`` runs; seconds taken."""
    import sqlalchemy as sa

    from gannet.store.metadata import MetadataStore

    store = MetadataStore(url).open()
    store.upgrade()
    start = time.perf_counter()
    indexes = secondary_indexes()
    with store.engine.begin() as conn:
        # dropping an index drops its planner statistics (SQLite): put them back after
        statistics = (
            [tuple(row) for row in conn.exec_driver_sql("SELECT tbl, idx, stat FROM sqlite_stat1")]
            if store.is_sqlite else []
        )
        for ix in indexes:
            conn.execute(sa.schema.DropIndex(ix, if_exists=True))
        conn.execute(sa.text(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) VALUES " + ", ".join(
                f"('{e}', 'scale-{e}', 'gannet:/experiments/{e}', 'active', 0, 0)"
                for e in EXPERIMENTS)
        ))
    raw = store.engine.raw_connection()
    try:
        writer = _sqlite_writer if store.is_sqlite else _postgres_writer
        for done, rows in enumerate(chunks(total), start=1):
            writer(raw.driver_connection, rows)
            say(f"  loaded {min(done * CHUNK, total):,} runs")
    finally:
        raw.close()
    with store.engine.begin() as conn:
        for ix in indexes:
            conn.execute(sa.schema.CreateIndex(ix))
        if store.is_sqlite:
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
            conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", statistics)
    if not store.is_sqlite:  # what autovacuum does after a big insert (visibility map too)
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    store.close()
    return time.perf_counter() - start


def _sqlite_writer(conn: Any, rows: dict[str, list[tuple]]) -> None:
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    for table, columns in COLUMNS.items():
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                         rows[table])
    conn.execute("COMMIT")


def _postgres_writer(conn: Any, rows: dict[str, list[tuple]]) -> None:
    with conn.cursor() as cursor:
        for table, columns in COLUMNS.items():
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row(row)
    conn.commit()


# -- the queries ------------------------------------------------------------------------------


def queries(total: int) -> list[tuple[str, dict[str, Any]]]:
    """(label, search_runs arguments) of every shape the faces issue."""
    middle = BASE_TIME + total // 2 * 1000
    return [
        ("default page (newest first)", {}),
        ("default page, all 4 experiments (gannet runs list)", {"experiments": EXPERIMENTS}),
        ("params.p0 = '3', all 4 experiments",
         {"filter": "params.p0 = '3'", "experiments": EXPERIMENTS}),
        ("second page (page_token)", {"page": 2}),
        ("deleted runs", {"view": "deleted"}),
        ("all runs (active and deleted)", {"view": "all"}),
        ("attributes.status = 'FINISHED'", {"filter": "attributes.status = 'FINISHED'"}),
        ("attributes.status = 'KILLED'", {"filter": "attributes.status = 'KILLED'"}),
        ("attributes.run_name = ...", {"filter": "attributes.run_name = 'brisk-heron-7'"}),
        ("attributes.run_name LIKE 'brisk-h%'",
         {"filter": "attributes.run_name LIKE 'brisk-h%'"}),
        ("attributes.start_time > (middle)", {"filter": f"attributes.start_time > {middle}"}),
        ("attributes.start_time < (middle)", {"filter": f"attributes.start_time < {middle}"}),
        ("params.p0 = '3'", {"filter": "params.p0 = '3'"}),
        ("params.p0 = '3', second page", {"filter": "params.p0 = '3'", "page": 2}),
        ("params.p4 = (one run)", {"filter": f"params.p4 = 'seed-{total // 3}'"}),
        ("params.p3 LIKE 'adam%'", {"filter": "params.p3 LIKE 'adam%'"}),
        ("tags.t0 = 'team-3'", {"filter": "tags.t0 = 'team-3'"}),
        ("tags.t1 LIKE 'note-12345%'", {"filter": "tags.t1 LIKE 'note-12345%'"}),
        ("metrics.m0 > 0.9 ORDER BY metrics.m0 DESC",
         {"filter": "metrics.m0 > 0.9", "order": ["metrics.m0 DESC"]}),
        ("metrics.m0 < 0.5 (default order)", {"filter": "metrics.m0 < 0.5"}),
        ("params.p0 = '3' AND metrics.m1 > 0.5",
         {"filter": "params.p0 = '3' AND metrics.m1 > 0.5"}),
        ("ORDER BY attributes.start_time ASC", {"order": ["attributes.start_time ASC"]}),
        ("ORDER BY metrics.m1 DESC", {"order": ["metrics.m1 DESC"]}),
        ("ORDER BY params.p1 ASC", {"order": ["params.p1 ASC"]}),
    ]  # fmt: skip


def time_query(tracking: Any, spec: dict[str, Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``search_runs`` (max_results=100) for ``spec``, and its page; for
    a later page only that page's call is timed (the token comes from an untimed call)."""
    from gannet.tracking.types import ViewType

    args = (list(spec.get("experiments", [SEARCHED])), spec.get("filter"), spec.get("order"), 100)
    view = ViewType(spec.get("view", "active"))

    def timed() -> tuple[float, Any]:
        token = None
        for _ in range(spec.get("page", 1) - 1):
            token = tracking.search_runs(*args, page_token=token, view=view).next_page_token
        started = time.perf_counter()
        page = tracking.search_runs(*args, page_token=token, view=view)
        return time.perf_counter() - started, page

    timed()  # warm-up
    samples = [timed() for _ in range(repeats)]
    return statistics.median(s for s, _ in samples), samples[-1][1]


def plan_of(tracking: Any, spec: dict[str, Any]) -> str:
    """The plan of the run-id SELECT that ``search_runs`` issues for ``spec``, in short."""
    from gannet.tracking import query, repository

    offset = 100 * (spec.get("page", 1) - 1)
    with tracking.metadata.read() as conn:
        repository.plan_searches(conn)
        comparisons = query.parse_filter(spec.get("filter"))
        order = query.parse_order_by(spec.get("order"))
        statement = repository.search_statement(
            conn, list(spec.get("experiments", [SEARCHED])), comparisons, order,
            spec.get("view", "active"), 101, offset,
            valued=query.sorts_on_unfiltered_key(order, comparisons),
        )
        return explain(conn, statement)


def explain(conn: Any, statement: Any) -> str:
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
    if conn.dialect.name == "sqlite":
        values = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
        return "; ".join(row[-1] for row in rows)
    rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return summarize_pg(row[0] for row in rows)


def summarize_pg(lines: Iterator[str]) -> str:
    """Node names and the indexes they use, without costs."""
    nodes = []
    for line in lines:
        text = line.strip().lstrip("->").strip()
        if not text or text.startswith(("Filter", "Index Cond", "Sort Key", "Join Filter",
                                        "Hash Cond", "Recheck", "Presorted", "Rows Removed",
                                        "Heap", "Merge Cond", "Output")):
            continue
        nodes.append(re.sub(r"\s*\(cost=.*\)$", "", text))
    return "; ".join(nodes)


@contextmanager
def backend_url(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'scale.db'}"
        return
    from gannet.testing.postgres import temporary_database

    with temporary_database(prefix="gannet_bench_scale") as url:
        yield url


def run_backend(url: str, total: int, repeats: int, say: Any) -> dict[str, Any]:
    from gannet.core.settings import Settings
    from gannet.store.metadata import MetadataStore
    from gannet.tracking.service import TrackingService

    say(f"[bold]{url.split(':')[0]}[/bold]: loading {total:,} runs")
    seconds = load(url, total, say)
    metadata = MetadataStore(url).open()
    home = Path(url.split("///")[-1]).parent if url.startswith("sqlite") else Path.cwd()
    settings = Settings.load(environ={}, cwd=home, home=home)
    tracking = TrackingService(metadata, None, settings)  # type: ignore[arg-type] - no blobs
    results = []
    for label, spec in queries(total):
        median, page = time_query(tracking, spec, repeats)
        results.append({
            "query": label, "spec": spec, "median_ms": median * 1000,
            "returned": len(page.items), "plan": plan_of(tracking, spec),
            "met": median * 1000 < GOAL_MS,
        })
        say(f"  {label}: {median * 1000:,.1f} ms")
    metadata.close()
    return {"load_s": seconds, "queries": results}


def scale(args: Any, report: Any) -> dict[str, Any]:
    import tempfile

    out: dict[str, Any] = {"runs": args.scale_runs, "repeats": args.scale_repeats,
                           "goal_ms": GOAL_MS, "backends": {}}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        with tempfile.TemporaryDirectory(prefix="gannet-bench-scale-") as folder, \
                backend_url(backend, Path(folder)) as url:
            out["backends"][backend] = run_backend(
                url, args.scale_runs, args.scale_repeats, report.say
            )
    return out


def show(results: dict[str, Any], report: Any) -> None:
    for backend, found in results["backends"].items():
        report.note(
            f"\n[bold]Search at {results['runs']:,} runs — {backend}[/bold] (loaded in "
            f"{found['load_s']:.0f} s; TrackingService.search_runs, max_results=100, median of "
            f"{results['repeats']} after a warm-up; goal < {results['goal_ms']:.0f} ms)"
        )
        rows = [
            [q["query"], f"{q['median_ms']:,.1f}", str(q["returned"]),
             "met" if q["met"] else "MISSED", "" if q["met"] else q["plan"]]
            for q in found["queries"]
        ]
        report.table("", ["query", "ms", "runs", "goal", "plan (of the slow ones)"], rows)


def plans(results: dict[str, Any]) -> Sequence[str]:
    """Every plan, for the record (--json has them too)."""
    return [
        f"{backend}: {q['query']}: {q['plan']}"
        for backend, found in results["backends"].items() for q in found["queries"]
    ]
