"""Gannet vs MLflow on the same tracking work, in one run, printing the ratios.

Three workloads, each run through Gannet embedded (SQLite + a local folder) and through
MLflow with a local SQLite tracking store (``sqlite:///<tmp>/mlflow.db``), one after the
other, each side in a fresh temporary folder:

1. per-call logging: 20 runs x 10 params x 5 metrics x 200 steps, one call per param and per
   metric point, every run opened and closed with start_run/end_run (the fluent APIs);
2. batch logging: the same 20,000 points through ``log_batch`` (chunks of 1,000 metrics);
3. search: 10,000 runs (10 params, 5 metrics, 1 tag each), then ``search_runs`` with a
   metric filter and ordering, median of 10 timed calls after one warm-up.

Store creation (migrations) is outside every timed section, on both sides. Gannet's
per-call samples run in fresh interpreters (median of 5), so what a script pays once per
process (environment capture) is counted; its other fast sides are the median of 5 passes.

    bench/.venv/bin/python bench/tracking.py            # full workloads (MLflow per-call ~2 min)
    bench/.venv/bin/python bench/tracking.py --quick    # MLflow per-call on 2 runs only
    bench/.venv/bin/python bench/tracking.py --json     # machine-readable results on stdout
    bench/.venv/bin/python bench/tracking.py --scale    # search at 1,000,000 runs, SQLite and
                                                        # PostgreSQL (bench/tracking_scale.py)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tracking_scale

RUNS = 20
PARAMS = 10
METRICS = 5
STEPS = 200
POINTS = RUNS * METRICS * STEPS  # 20,000
BATCH = 1000  # MLflow's limit of metrics per log_batch call
QUICK_MLFLOW_RUNS = 2
SEARCH_RUNS = 10_000
SEARCH_FILTER = "metrics.m0 > 0.5"
SEARCH_ORDER = ["metrics.m0 DESC"]
SEARCH_PAGES = (100, 1000)
SEARCH_REPEATS = 10
LOGGING_REPEATS = 5
# Gannet / MLflow, from the issue; batch_over_limit: Gannet's time / the raw sqlite3 floor's
GOALS = {"per_call": 500.0, "batch": 20.0, "batch_over_limit": 2.0, "search": 50.0}
EXPERIMENT = "bench"


# -- environment of the benchmark ----------------------------------------------------------


def quiet_mlflow() -> None:
    """MLflow offline, synchronous, silent; set before mlflow is imported."""
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    os.environ["MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING"] = "false"
    os.environ["MLFLOW_LOGGING_LEVEL"] = "ERROR"
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # every workload names its own store
    for name in ("mlflow", "alembic", "sqlalchemy", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def machine() -> dict[str, Any]:
    import gannet

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cpu": cpu,
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "logical_cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "gannet": gannet.__version__,
        "gannet_commit": _commit(),
        "mlflow": _version("mlflow"),
        "sqlalchemy": _version("sqlalchemy"),
    }
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info


def _commit() -> str:
    """The commit of the Gannet tree measured, '+dirty' when it has uncommitted changes."""
    import subprocess

    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(here), *args], capture_output=True, text=True, check=False
            )
        except OSError:
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "no git"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "../gannet")
    return commit + ("+dirty" if dirty else "")


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


class Reporter:
    """Rich tables and progress bars on stderr/stdout, or nothing but JSON at the end."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        try:
            from rich.console import Console

            self.out = Console(stderr=as_json)
            if not self.out.is_terminal:
                self.out = Console(stderr=as_json, width=120)
            self.err = Console(stderr=True)
        except ImportError:  # pragma: no cover - rich is a Gannet dependency
            self.out = self.err = None

    def say(self, text: str) -> None:
        if self.err is not None:
            self.err.print(text, highlight=False)
        else:
            print(text, file=sys.stderr)

    @contextlib.contextmanager
    def progress(self, label: str, total: int) -> Iterator[Any]:
        """A progress bar (rich) whose ``advance(n)`` is cheap; nothing without rich."""
        if self.err is None:
            yield lambda n=1: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
            refresh_per_second=2,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n=1: bar.advance(task, n)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.as_json:
            return
        if self.out is None:
            print(f"\n{title}")
            for row in [columns, *rows]:
                print("  " + " | ".join(row))
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", title_style="bold")
        for i, name in enumerate(columns):
            table.add_column(name, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        self.out.print(table)

    def note(self, text: str) -> None:
        if not self.as_json:
            if self.out is not None:
                self.out.print(text, highlight=False)
            else:
                print(text)


@contextlib.contextmanager
def fresh_dir(label: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"gannet-bench-{label}-") as folder:
        yield Path(folder)


def values_for(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def fmt_ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 10 else f"{x:,.1f}x"


def verdict(ratio: float, goal: float) -> str:
    return f"met (>= {goal:,.0f}x)" if ratio >= goal else f"MISSED (goal >= {goal:,.0f}x)"


# -- 1. per-call logging ---------------------------------------------------------------------


def gannet_per_call(runs: int, log_environment: bool | None) -> dict[str, Any]:
    """``gannet.start_run`` / ``log_param`` / ``log_metric`` / ``end_run``, one call each."""
    import gannet

    with fresh_dir("gannet-percall") as root:
        gannet.configure(home=root)
        gannet.set_experiment(EXPERIMENT)  # opens and migrates the store: not timed
        values = values_for(1, STEPS * METRICS)
        keys = [f"m{k}" for k in range(METRICS)]
        options = {} if log_environment is None else {"log_environment": log_environment}
        start = time.perf_counter()
        for r in range(runs):
            gannet.start_run(run_name=f"run-{r}", **options)
            for p in range(PARAMS):
                gannet.log_param(f"p{p}", f"value-{r}-{p}")
            i = 0
            for step in range(STEPS):
                for key in keys:
                    gannet.log_metric(key, values[i], step=step)
                    i += 1
            gannet.end_run()  # writes what the buffer holds
        seconds = time.perf_counter() - start
        last = gannet.get_client().search_runs(
            [gannet.get_client().get_experiment_by_name(EXPERIMENT).experiment_id],
            max_results=1000,
        )
        history = gannet.get_metric_history(last[0].info.run_id, "m0")
        ok = len(last) == runs and len(history) == STEPS and len(last[0].data.params) == PARAMS
        gannet.get_client().close()
    return {"runs": runs, "points": runs * METRICS * STEPS, "seconds": seconds, "checked": ok}


def mlflow_per_call(runs: int, report: Reporter) -> dict[str, Any]:
    """``mlflow.start_run`` / ``log_param`` / ``log_metric`` / ``end_run``, one call each."""
    import mlflow

    with fresh_dir("mlflow-percall") as root:
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        experiment_id = mlflow.create_experiment(
            EXPERIMENT, artifact_location=(root / "mlartifacts").as_uri()
        )  # opens and migrates the store: not timed
        mlflow.set_experiment(experiment_id=experiment_id)
        values = values_for(1, STEPS * METRICS)
        keys = [f"m{k}" for k in range(METRICS)]
        with report.progress(f"MLflow per-call logging ({runs} runs)", runs) as advance:
            start = time.perf_counter()
            for r in range(runs):
                mlflow.start_run(run_name=f"run-{r}")
                for p in range(PARAMS):
                    mlflow.log_param(f"p{p}", f"value-{r}-{p}")
                i = 0
                for step in range(STEPS):
                    for key in keys:
                        mlflow.log_metric(key, values[i], step=step)
                        i += 1
                mlflow.end_run()
                advance()
            seconds = time.perf_counter() - start
        client = mlflow.MlflowClient()
        found = client.search_runs([experiment_id], max_results=1000)
        history = client.get_metric_history(found[0].info.run_id, "m0")
        ok = len(found) == runs and len(history) == STEPS and len(found[0].data.params) == PARAMS
        _dispose_mlflow(mlflow)
    return {"runs": runs, "points": runs * METRICS * STEPS, "seconds": seconds, "checked": ok}


def _dispose_mlflow(mlflow: Any) -> None:
    """Close MLflow's engine so its SQLite file can go with the temp folder."""
    with contextlib.suppress(Exception):
        store = mlflow.tracking._tracking_service.utils._get_store()
        store.engine.dispose()
    mlflow.set_tracking_uri("")


def median_of(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The sample with the median time, plus every time (seconds) for the record."""
    ordered = sorted(samples, key=lambda s: s["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["all_seconds"] = [round(s["seconds"], 4) for s in samples]
    chosen["checked"] = all(s["checked"] for s in samples)
    chosen["points_per_s"] = chosen["points"] / chosen["seconds"]
    return chosen


def gannet_per_call_fresh(log_environment: str) -> dict[str, Any]:
    """One Gannet per-call sample in a new interpreter, as a user's training script runs.

    A fresh process pays what a script pays once (listing installed packages, asking git),
    which an in-process repetition would hide behind Gannet's per-process cache.
    """
    import subprocess

    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", f"per_call:{log_environment}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Gannet per-call child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_call(args: argparse.Namespace, report: Reporter) -> dict[str, Any]:
    report.say("[bold]1. per-call logging[/bold]")
    samples: dict[str, list[dict[str, Any]]] = {"default": [], "off": []}
    with report.progress("Gannet per-call logging (fresh processes)", 2 * args.repeats) as advance:
        for _ in range(args.repeats):
            for mode, found in samples.items():
                found.append(gannet_per_call_fresh(mode))
                advance()
    g, g_off = median_of(samples["default"]), median_of(samples["off"])
    mlflow_runs = QUICK_MLFLOW_RUNS if args.quick else RUNS
    m = median_of([mlflow_per_call(mlflow_runs, report)])
    ratio = g["points_per_s"] / m["points_per_s"]
    return {
        "workload": f"{RUNS} runs x {PARAMS} params x {METRICS} metrics x {STEPS} steps, "
        "one call each (start_run/end_run per run)",
        "timing": f"Gannet: median of {args.repeats} fresh processes; MLflow: one pass",
        "gannet": g,
        "gannet_no_environment": g_off,
        "mlflow": m,
        "mlflow_scaled_down": mlflow_runs != RUNS,
        "ratio": ratio,
        "goal": GOALS["per_call"],
        "met": ratio >= GOALS["per_call"],
    }


# -- 2. batch logging ------------------------------------------------------------------------


def run_points(r: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp, step) for one run: METRICS x STEPS points."""
    values = values_for(100 + r, STEPS * METRICS)
    base = 1_700_000_000_000
    return [
        (f"m{k}", values[step * METRICS + k], base + step, step)
        for step in range(STEPS)
        for k in range(METRICS)
    ]


def run_params(r: int) -> dict[str, str]:
    return {f"p{p}": f"value-{r}-{p}" for p in range(PARAMS)}


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def gannet_batch() -> dict[str, Any]:
    from gannet import GannetClient
    from gannet.tracking.types import Metric

    with fresh_dir("gannet-batch") as root:
        client = GannetClient(home=root)
        experiment_id = client.create_experiment(EXPERIMENT)  # opens the store: not timed
        work = [
            (run_params(r), chunks([Metric(*p) for p in run_points(r)], BATCH)) for r in range(RUNS)
        ]
        start = time.perf_counter()
        for r, (params, metric_chunks) in enumerate(work):
            run_id = client.create_run(experiment_id, run_name=f"run-{r}").info.run_id
            client.log_batch(run_id, params=params)
            for chunk in metric_chunks:
                client.log_batch(run_id, metrics=chunk)
            client.set_terminated(run_id)
        seconds = time.perf_counter() - start
        found = client.search_runs([experiment_id], max_results=1000)
        history = client.get_metric_history(found[0].info.run_id, "m0")
        ok = len(found) == RUNS and len(history) == STEPS
        client.close()
    return {"runs": RUNS, "points": POINTS, "seconds": seconds, "checked": ok}


def mlflow_batch() -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric, Param

    with fresh_dir("mlflow-batch") as root:
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        client = mlflow.MlflowClient()
        experiment_id = client.create_experiment(
            EXPERIMENT, artifact_location=(root / "mlartifacts").as_uri()
        )  # opens and migrates the store: not timed
        work = [
            (
                [Param(k, v) for k, v in run_params(r).items()],
                chunks([Metric(*p) for p in run_points(r)], BATCH),
            )
            for r in range(RUNS)
        ]
        start = time.perf_counter()
        for r, (params, metric_chunks) in enumerate(work):
            run_id = client.create_run(experiment_id, run_name=f"run-{r}").info.run_id
            client.log_batch(run_id, params=params)
            for chunk in metric_chunks:
                client.log_batch(run_id, metrics=chunk)
            client.set_terminated(run_id)
        seconds = time.perf_counter() - start
        found = client.search_runs([experiment_id], max_results=1000)
        history = client.get_metric_history(found[0].info.run_id, "m0")
        ok = len(found) == RUNS and len(history) == STEPS
        _dispose_mlflow(mlflow)
    return {"runs": RUNS, "points": POINTS, "seconds": seconds, "checked": ok}


LIMIT_SQL = {
    "params": "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_id, key) DO NOTHING",
    "metrics": "INSERT INTO metrics (run_id, key, value, is_nan, timestamp, step) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "latest": "INSERT INTO latest_metrics (run_id, key, value, is_nan, timestamp, step) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, "
    "is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step "
    "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND "
    "excluded.timestamp > latest_metrics.timestamp) OR (excluded.step = latest_metrics.step "
    "AND excluded.timestamp = latest_metrics.timestamp AND excluded.value > latest_metrics.value)",
}


def limit_batch() -> dict[str, Any]:
    """The floor for the batch workload: raw ``sqlite3`` ``executemany`` of the same rows
    (params; metric rows and the latest-metric upserts) into a store Gannet migrated, with
    Gannet's connection settings and one transaction per ``log_batch`` call, as Gannet
    commits them. Runs are inserted before the clock starts and never ended, and the
    rows (tuples, the latest point of each chunk) are prepared before it too."""
    from gannet.store.metadata import MetadataStore

    with fresh_dir("limit-batch") as root:
        db = root / "gannet.db"
        store = MetadataStore(f"sqlite:///{db}").open()
        store.upgrade()
        store.close()
        conn = sqlite3.connect(db, isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("INSERT INTO experiments VALUES ('1', 'bench', 'a', 'active', 0, 0)")
        work = []
        for r in range(RUNS):
            run_id = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO runs (run_id, experiment_id, name, status, start_time, user_id, "
                "source_name, source_type, lifecycle_stage, artifact_uri) "
                "VALUES (?, '1', ?, 'RUNNING', 0, 'u', '', 'LOCAL', 'active', 'x')",
                (run_id, f"run-{r}"),
            )
            params = [(run_id, k, v) for k, v in run_params(r).items()]
            metric_chunks = []
            for chunk in chunks(run_points(r), BATCH):
                rows = [(run_id, k, v, False, ts, step) for k, v, ts, step in chunk]
                latest = {row[1]: row for row in sorted(rows, key=lambda x: (x[5], x[4], x[2]))}
                metric_chunks.append((rows, list(latest.values())))
            work.append((params, metric_chunks))
        start = time.perf_counter()
        for params, metric_chunks in work:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(LIMIT_SQL["params"], params)
            conn.execute("COMMIT")
            for rows, latest in metric_chunks:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(LIMIT_SQL["metrics"], rows)
                conn.executemany(LIMIT_SQL["latest"], latest)
                conn.execute("COMMIT")
        seconds = time.perf_counter() - start
        stored = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
        conn.close()
    return {"runs": RUNS, "points": POINTS, "seconds": seconds, "checked": stored == POINTS}


def batch(args: argparse.Namespace, report: Reporter) -> dict[str, Any]:
    report.say("[bold]2. batch logging[/bold]")
    g = median_of([gannet_batch() for _ in range(args.repeats)])
    limit = median_of([limit_batch() for _ in range(args.repeats)])
    m = median_of([mlflow_batch() for _ in range(args.repeats)])
    ratio = g["points_per_s"] / m["points_per_s"]
    to_limit = limit["points_per_s"] / g["points_per_s"]
    return {
        "timing": f"median of {args.repeats} passes on each side, each in a fresh store",
        "workload": f"{POINTS:,} points in {RUNS} runs: create_run, log_batch(params), "
        f"log_batch(metrics, chunks of {BATCH}), set_terminated",
        "gannet": g,
        "limit": limit,
        "mlflow": m,
        "ratio": ratio,
        "gannet_time_over_limit": to_limit,
        "goal": GOALS["batch"],
        "goal_over_limit": GOALS["batch_over_limit"],
        "met": ratio >= GOALS["batch"] and to_limit <= GOALS["batch_over_limit"],
    }


# -- 3. search -------------------------------------------------------------------------------


def search_rows(n: int) -> list[dict[str, Any]]:
    """The same runs for both stores: name, 10 params, 5 metrics (one point each), 1 tag."""
    rng = random.Random(7)
    base = 1_700_000_000_000
    return [
        {
            "name": f"run-{i:05d}",
            "params": {f"p{p}": f"value-{rng.randrange(100)}" for p in range(PARAMS)},
            "metrics": {f"m{k}": rng.random() for k in range(METRICS)},
            "tag": ("team", f"team-{i % 7}"),
            "time": base + i,
        }
        for i in range(n)
    ]


def time_calls(call: Any, repeats: int) -> tuple[float, Any]:
    result = call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def summary(runs: Sequence[Any]) -> list[tuple[str, float]]:
    return [(r.info.run_name, r.data.metrics["m0"]) for r in runs]


def gannet_search(rows: list[dict[str, Any]], repeats: int, report: Reporter) -> dict[str, Any]:
    from gannet import GannetClient
    from gannet.tracking.types import Metric

    with fresh_dir("gannet-search") as root:
        client = GannetClient(home=root, progress=False)
        experiment_id = client.create_experiment(EXPERIMENT)
        start = time.perf_counter()
        with report.progress(f"Gannet: populating {len(rows):,} runs", len(rows)) as advance:
            for row in rows:
                run_id = client.create_run(
                    experiment_id,
                    run_name=row["name"],
                    tags=dict([row["tag"]]),
                    start_time=row["time"],
                ).info.run_id
                client.log_batch(
                    run_id,
                    metrics=[Metric(k, v, row["time"], 0) for k, v in row["metrics"].items()],
                    params=row["params"],
                )
                advance()
        populate = time.perf_counter() - start
        results: dict[int, Any] = {}
        for page in SEARCH_PAGES:
            seconds, found = time_calls(
                lambda page=page: client.search_runs(
                    [experiment_id], SEARCH_FILTER, max_results=page, order_by=SEARCH_ORDER
                ),
                repeats,
            )
            results[page] = {"median_s": seconds, "runs": summary(found)}
        client.close()
    return {
        "populate_s": populate,
        "populate_via": "GannetClient.create_run + log_batch",
        "pages": results,
    }


def mlflow_search(
    rows: list[dict[str, Any]], repeats: int, via: str, report: Reporter
) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric, Param

    with fresh_dir("mlflow-search") as root:
        db = root / "mlflow.db"
        mlflow.set_tracking_uri(f"sqlite:///{db}")
        client = mlflow.MlflowClient()
        artifacts = (root / "mlartifacts").as_uri()
        experiment_id = client.create_experiment(EXPERIMENT, artifact_location=artifacts)
        start = time.perf_counter()
        label = f"MLflow: populating {len(rows):,} runs ({via})"
        with report.progress(label, len(rows)) as advance:
            if via == "client":
                for row in rows:
                    run_id = client.create_run(
                        experiment_id,
                        run_name=row["name"],
                        tags={row["tag"][0]: row["tag"][1]},
                        start_time=row["time"],
                    ).info.run_id
                    client.log_batch(
                        run_id,
                        metrics=[Metric(k, v, row["time"], 0) for k, v in row["metrics"].items()],
                        params=[Param(k, v) for k, v in row["params"].items()],
                    )
                    advance()
            else:
                _mlflow_insert(db, experiment_id, artifacts, rows, advance)
        populate = time.perf_counter() - start
        results: dict[int, Any] = {}
        for page in SEARCH_PAGES:
            seconds, found = time_calls(
                lambda page=page: client.search_runs(
                    [experiment_id], SEARCH_FILTER, max_results=page, order_by=SEARCH_ORDER
                ),
                repeats,
            )
            results[page] = {"median_s": seconds, "runs": summary(found)}
        _dispose_mlflow(mlflow)
    how = (
        "MlflowClient.create_run + log_batch"
        if via == "client"
        else "sqlite3 executemany into the tables MLflow's store created "
        "(runs, tags, params, metrics, latest_metrics), rows as MLflow's create_run writes them"
    )
    return {"populate_s": populate, "populate_via": how, "pages": results}


def _mlflow_insert(
    db: Path, experiment_id: str, artifacts: str, rows: list[dict[str, Any]], advance: Any
) -> None:
    """Rows exactly as MlflowClient.create_run + log_batch would leave them, in bulk."""
    user = os.environ.get("USER", "bench")
    conn = sqlite3.connect(db)
    try:
        _check_mlflow_schema(conn)
        for part in chunks(rows, 1000):
            runs, tags, params, metrics = [], [], [], []
            for row in part:
                run_id = uuid.uuid4().hex
                runs.append(
                    (
                        run_id,
                        row["name"],
                        "UNKNOWN",
                        "",
                        "",
                        user,
                        "RUNNING",
                        row["time"],
                        None,
                        None,
                        "",
                        "active",
                        f"{artifacts}/{run_id}/artifacts",
                        int(experiment_id),
                    )
                )
                tags.append(("mlflow.runName", row["name"], run_id))
                tags.append((row["tag"][0], row["tag"][1], run_id))
                params.extend((k, v, run_id) for k, v in row["params"].items())
                metrics.extend((k, v, row["time"], 0, 0, run_id) for k, v in row["metrics"].items())
            with conn:
                conn.executemany(
                    "INSERT INTO runs (run_uuid, name, source_type, source_name, "
                    "entry_point_name, user_id, status, start_time, end_time, deleted_time, "
                    "source_version, lifecycle_stage, artifact_uri, experiment_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    runs,
                )
                conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
                conn.executemany(
                    "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params
                )
                for table in ("metrics", "latest_metrics"):
                    conn.executemany(
                        f"INSERT INTO {table} (key, value, timestamp, step, is_nan, run_uuid) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        metrics,
                    )
            advance(len(part))
    finally:
        conn.close()


def _check_mlflow_schema(conn: sqlite3.Connection) -> None:
    """Fail loudly if this MLflow's schema has a required column the insert does not fill."""
    filled = {
        "runs": {
            "run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id",
            "status", "start_time", "end_time", "deleted_time", "source_version",
            "lifecycle_stage", "artifact_uri", "experiment_id",
        },
        "tags": {"key", "value", "run_uuid"},
        "params": {"key", "value", "run_uuid"},
        "metrics": {"key", "value", "timestamp", "step", "is_nan", "run_uuid"},
        "latest_metrics": {"key", "value", "timestamp", "step", "is_nan", "run_uuid"},
    }  # fmt: skip
    for table, columns in filled.items():
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        if not info:
            raise RuntimeError(
                f"MLflow's schema has no table {table!r}: use --mlflow-populate client"
            )
        missing = [c[1] for c in info if c[1] not in columns and c[3] and c[4] is None]
        unknown = columns - {c[1] for c in info}
        if missing or unknown:
            raise RuntimeError(
                f"MLflow's {table} table changed (required {missing}, gone {sorted(unknown)}): "
                "use --mlflow-populate client"
            )


def search(args: argparse.Namespace, report: Reporter) -> dict[str, Any]:
    report.say("[bold]3. search[/bold]")
    rows = search_rows(args.search_runs)
    g = gannet_search(rows, args.search_repeats, report)
    m = mlflow_search(rows, args.search_repeats, args.mlflow_populate, report)
    pages = {}
    for page in SEARCH_PAGES:
        gp, mp = g["pages"][page], m["pages"][page]
        pages[page] = {
            "gannet_median_s": gp["median_s"],
            "mlflow_median_s": mp["median_s"],
            "ratio": mp["median_s"] / gp["median_s"],
            "returned": len(gp["runs"]),
            "same_results": gp["runs"] == mp["runs"],
        }
    ratio = pages[SEARCH_PAGES[0]]["ratio"]
    return {
        "workload": f"{args.search_runs:,} runs x ({PARAMS} params, {METRICS} metrics, 1 tag); "
        f"search_runs({SEARCH_FILTER!r}, order_by={SEARCH_ORDER}), median of {args.search_repeats} "
        "calls after one warm-up",
        "runs": args.search_runs,
        "gannet_populate_s": g["populate_s"],
        "gannet_populate_via": g["populate_via"],
        "mlflow_populate_s": m["populate_s"],
        "mlflow_populate_via": m["populate_via"],
        "pages": pages,
        "ratio": ratio,
        "goal": GOALS["search"],
        "met": ratio >= GOALS["search"],
    }


# -- output ----------------------------------------------------------------------------------


def show(results: dict[str, Any], report: Reporter) -> None:
    info = results["machine"]
    cores = f"{info['logical_cores']} logical"
    if "physical_cores" in info:
        cores += f" / {info['physical_cores']} physical"
    memory = f", {info['memory_gb']} GB RAM" if "memory_gb" in info else ""
    report.note(
        f"\n[bold]Gannet vs MLflow — tracking[/bold]  ({results['date']}, "
        f"{'quick' if results['quick'] else 'full'} run)\n"
        f"CPU: {info['cpu']} ({cores} cores{memory}); load average at start "
        f"{info['load_at_start']}\n"
        f"Python {info['python']} · gannet {info['gannet']} ({info['gannet_commit']}) · "
        f"mlflow {info['mlflow']} · SQLite {info['sqlite']} · SQLAlchemy {info['sqlalchemy']}\n"
        f"{info['platform']}\n"
    )
    w = results["workloads"]
    goals: list[list[str]] = []
    if "per_call" in w:
        r = w["per_call"]
        report.note(f"[bold]1. Per-call logging[/bold]: {r['workload']}; {r['timing']}")
        rows = [
            [
                label,
                str(side["runs"]),
                f"{side['points']:,}",
                f"{side['seconds']:.3f}",
                fmt_rate(side["points_per_s"]),
                "ok" if side["checked"] else "FAILED",
            ]
            for label, side in (
                ("Gannet (default: environment capture on)", r["gannet"]),
                ("Gannet (start_run(log_environment=False))", r["gannet_no_environment"]),
                (f"MLflow {info['mlflow']} (fluent API, synchronous)", r["mlflow"]),
            )
        ]
        report.table("", ["", "runs", "points", "wall s", "points/s", "check"], rows)
        scaled = (
            f" (MLflow rate from {r['mlflow']['runs']} runs, --quick)"
            if r["mlflow_scaled_down"]
            else ""
        )
        off = r["gannet_no_environment"]["points_per_s"] / r["mlflow"]["points_per_s"]
        report.note(
            f"Gannet/MLflow: [bold]{fmt_ratio(r['ratio'])}[/bold]{scaled} — "
            f"{verdict(r['ratio'], r['goal'])}; with log_environment=False: {fmt_ratio(off)}\n"
        )
        goals.append(["per-call logging", fmt_ratio(r["ratio"]), r["goal"], r["met"]])
    if "batch" in w:
        r = w["batch"]
        report.note(f"[bold]2. Batch logging[/bold]: {r['workload']}; {r['timing']}")
        rows = [
            [
                label,
                f"{side['points']:,}",
                f"{side['seconds']:.3f}",
                fmt_rate(side["points_per_s"]),
                "ok" if side["checked"] else "FAILED",
            ]
            for label, side in (
                ("Gannet (GannetClient)", r["gannet"]),
                ("limit: raw sqlite3 executemany, same rows and schema", r["limit"]),
                (f"MLflow {info['mlflow']} (MlflowClient)", r["mlflow"]),
            )
        ]
        report.table("", ["", "points", "wall s", "points/s", "check"], rows)
        over = r["gannet_time_over_limit"]
        within = over <= r["goal_over_limit"]
        report.note(
            f"Gannet/MLflow: [bold]{fmt_ratio(r['ratio'])}[/bold] — "
            f"{verdict(r['ratio'], r['goal'])}; Gannet's time / the limit's: [bold]{over:.2f}x"
            f"[/bold] — {'met' if within else 'MISSED'} (goal <= "
            f"{r['goal_over_limit']:.0f}x)\n"
        )
        goals.append(["batch logging", fmt_ratio(r["ratio"]), r["goal"], r["ratio"] >= r["goal"]])
        goals.append(["batch logging, time / limit", f"{over:.2f}x", -r["goal_over_limit"], within])
    if "search" in w:
        r = w["search"]
        report.note(f"[bold]3. Search[/bold]: {r['workload']}")
        rows = [
            [
                f"max_results={page}",
                str(p["returned"]),
                f"{p['gannet_median_s'] * 1000:,.1f}",
                f"{p['mlflow_median_s'] * 1000:,.1f}",
                fmt_ratio(p["ratio"]),
                "same" if p["same_results"] else "DIFFERENT",
            ]
            for page, p in r["pages"].items()
        ]
        report.table(
            "",
            ["", "runs returned", "Gannet ms", "MLflow ms", "MLflow/Gannet", "runs and order"],
            rows,
        )
        report.note(
            f"Populated Gannet via {r['gannet_populate_via']} in {r['gannet_populate_s']:.1f} s; "
            f"MLflow via {r['mlflow_populate_via']} in {r['mlflow_populate_s']:.1f} s.\n"
        )
        for page, p in r["pages"].items():
            goals.append(
                [
                    f"search, max_results={page}",
                    fmt_ratio(p["ratio"]),
                    r["goal"],
                    p["ratio"] >= r["goal"],
                ]
            )
    report.note(
        "[bold]Goals[/bold]: per-call >= 500x MLflow, batch >= 20x MLflow and within 2x of "
        "the raw sqlite3 limit, search >= 50x"
    )
    report.table(
        "",
        ["workload", "Gannet vs MLflow", "goal", ""],
        [
            [name, ratio, f">= {goal:,.0f}x" if goal > 0 else f"<= {-goal:,.0f}x",
             "met" if met else "MISSED"]
            for name, ratio, goal, met in goals
        ],
    )


def to_json(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, default=str)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"MLflow per-call on {QUICK_MLFLOW_RUNS} runs instead of {RUNS} (rate from those)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--json-out", type=Path, help="also write the JSON results to this file")
    parser.add_argument(
        "--only",
        default="per_call,batch,search",
        help="comma-separated workloads to run: per_call, batch, search (default: all)",
    )
    parser.add_argument("--search-runs", type=int, default=SEARCH_RUNS, help="runs to search")
    parser.add_argument(
        "--repeats",
        type=int,
        default=LOGGING_REPEATS,
        help=f"passes of the fast logging sides, median reported (default {LOGGING_REPEATS})",
    )
    parser.add_argument(
        "--search-repeats",
        type=int,
        default=SEARCH_REPEATS,
        help=f"timed search_runs calls, median reported (default {SEARCH_REPEATS})",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="only the search-at-scale workload (see bench/tracking_scale.py)",
    )
    parser.add_argument(
        "--scale-runs", type=int, default=tracking_scale.SCALE_RUNS, help="runs for --scale"
    )
    parser.add_argument(
        "--scale-repeats",
        type=int,
        default=tracking_scale.SCALE_REPEATS,
        help="timed calls per query for --scale, median reported",
    )
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="metadata backends for --scale"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--mlflow-populate",
        choices=["sql", "client"],
        default="sql",
        help="fill MLflow's store for the search through sqlite3 (fast, default) or its client",
    )
    args = parser.parse_args(argv)
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    workloads = {"per_call": per_call, "batch": batch, "search": search}
    unknown = set(chosen) - set(workloads)
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")

    if args.child:  # one Gannet per-call sample for the parent, as JSON on stdout
        _, mode = args.child.split(":")
        print(json.dumps(gannet_per_call(RUNS, None if mode == "default" else False)))
        return 0
    quiet_mlflow()
    report = Reporter(args.json)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "machine": machine(),
        "goals": GOALS,
        "workloads": {},
    }
    if args.scale:
        results["workloads"]["scale"] = tracking_scale.scale(args, report)
    else:
        for name in workloads:
            if name in chosen:
                results["workloads"][name] = workloads[name](args, report)
    if args.json_out:
        args.json_out.write_text(to_json(results) + "\n")
    if args.json:
        print(to_json(results))
    elif args.scale:
        tracking_scale.show(results["workloads"]["scale"], report)
    else:
        show(results, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
