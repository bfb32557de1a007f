"""Benchmark: the web UI's runs table of a 10,000-run experiment, against MLflow's UI search.

    bench/.venv/bin/python bench/ui.py [--runs 10000] [--repeats 15] [--quick]

The same runs (5 params, 5 metrics, 2 tags each) go into a Gannet store and an MLflow
SQLite store. Gannet: the whole page, ``GET /ui/experiments/<id>`` over HTTP on 127.0.0.1
from a real team server (search, then rendering 100 rows of HTML), median time of
``--repeats`` requests after one warm-up, for each query shape (default order; ordered by
a metric; a filter on a param and a metric; the second page). MLflow (the anchor):
``SqlAlchemyStore.search_runs`` in-process with the same filter, order and page size: the
call behind its UI's ``/ajax-api/2.0/mlflow/runs/search``, without HTTP or rendering, so
the comparison favours MLflow. The goal: Gannet's page under 100 ms. ``--quick``: 500 runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

PARAMS = ("lr", "depth", "optimizer", "batch", "seed")
METRICS = ("accuracy", "loss", "auc", "f1", "latency")
SHAPES = {  # label: (filter, order)
    "default order": ("", "attributes.start_time DESC"),
    "by a metric": ("", "metrics.accuracy DESC"),
    "filter param+metric": ("params.optimizer = 'adam' AND metrics.accuracy > 0.5",
                            "metrics.accuracy DESC"),
}
GOAL_MS = 100.0


def values(i: int) -> tuple[dict[str, str], dict[str, float]]:
    params = {"lr": str([0.1, 0.01, 0.001][i % 3]), "depth": str(2 + i % 9),
              "optimizer": ["adam", "sgd", "adamw"][i % 3], "batch": str(32 << (i % 4)),
              "seed": str(i)}
    metrics = {m: ((i * 7919 + k * 104729) % 10_000) / 10_000 for k, m in enumerate(METRICS)}
    return params, metrics


def load_gannet(root: Path, runs: int) -> tuple[object, str]:
    from gannet.bootstrap import build
    from gannet.core.settings import Settings
    from gannet.tracking.types import Pending

    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             capture_environment=False)
    services = build(settings)
    tracking = services.tracking
    experiment_id = tracking.create_experiment("bench-ui")
    for first in range(0, runs, 1000):
        pending = Pending()
        for i in range(first, min(runs, first + 1000)):
            run_id = tracking.create_run(experiment_id, run_name=f"run-{i}",
                                         start_time=1_700_000_000_000 + i).info.run_id
            params, metrics = values(i)
            pending.params += [(run_id, k, v) for k, v in params.items()]
            pending.points += [(run_id, k, v, 1_700_000_000_000 + i, 0)
                               for k, v in metrics.items()]
            pending.tags += [(run_id, "team", "risk"), (run_id, "stage", "dev")]
        tracking.write_pending(pending, batch_id=f"bench-ui-{first:08d}")
    return services, experiment_id


def load_mlflow(root: Path, runs: int) -> tuple[object, str]:
    import sqlalchemy
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{root / 'mlflow.db'}", str(root / "mlartifacts"))
    # the load only: no fsync per run (a search reads, and never waits on it)
    sqlalchemy.event.listen(store.engine, "connect",
                            lambda conn, _: conn.execute("PRAGMA synchronous=OFF"))
    store.engine.dispose()
    experiment_id = store.create_experiment("bench-ui")
    for i in range(runs):
        run = store.create_run(experiment_id, "bench", 1_700_000_000_000 + i, [], f"run-{i}")
        params, metrics = values(i)
        store.log_batch(run.info.run_id,
                        [Metric(k, v, 1_700_000_000_000 + i, 0) for k, v in metrics.items()],
                        [Param(k, v) for k, v in params.items()],
                        [RunTag("team", "risk"), RunTag("stage", "dev")])
    return store, experiment_id


def median_ms(call: object, repeats: int) -> float:
    call()  # type: ignore[operator]  # the warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def time_gannet(services: object, experiment_id: str, repeats: int) -> dict[str, float]:
    import httpx

    from gannet.testing.server import running_server

    found: dict[str, float] = {}
    cols = [f"metrics.{m}" for m in METRICS] + [f"params.{p}" for p in PARAMS]

    def path_of(filter_: str, order: str, token: str | None = None) -> str:
        query = [("filter", filter_), ("order", order), ("size", "100")]
        query += [("cols", c) for c in cols] + ([("page_token", token)] if token else [])
        return f"/ui/experiments/{experiment_id}?{urlencode(query)}"

    with running_server(services) as url, httpx.Client(base_url=url, timeout=60) as client:
        def page(path: str) -> None:
            answer = client.get(path)
            assert answer.status_code == 200, answer.text[:500]

        for label, (filter_, order) in SHAPES.items():
            found[label] = median_ms(lambda p=path_of(filter_, order): page(p), repeats)
        token = services.tracking.search_runs(  # type: ignore[attr-defined]
            [experiment_id], None, ["metrics.accuracy DESC"], 100).next_page_token
        second = path_of("", "metrics.accuracy DESC", token)
        found["second page"] = median_ms(lambda: page(second), repeats)
    return found


def time_mlflow(store: object, experiment_id: str, repeats: int) -> dict[str, float]:
    from mlflow.entities import ViewType

    found: dict[str, float] = {}
    for label, (filter_, order) in SHAPES.items():
        def search(filter_: str = filter_, order: str = order) -> object:
            return store.search_runs([experiment_id], filter_, ViewType.ACTIVE_ONLY,  # type: ignore[attr-defined]
                                     100, [order], None)

        found[label] = median_ms(search, repeats)
    def page(token: str | None) -> object:
        return store.search_runs([experiment_id], "", ViewType.ACTIVE_ONLY,  # type: ignore[attr-defined]
                                 100, ["metrics.accuracy DESC"], token)

    token = page(None).token  # type: ignore[attr-defined]
    found["second page"] = median_ms(lambda: page(token), repeats)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="500 runs, 5 repeats")
    args = parser.parse_args()
    runs, repeats = (500, 5) if args.quick else (args.runs, args.repeats)
    root = Path(tempfile.mkdtemp(prefix="gannet-bench-ui-"))
    started = time.perf_counter()
    services, gannet_experiment = load_gannet(root, runs)
    loaded = time.perf_counter()
    store, mlflow_experiment = load_mlflow(root, runs)
    print(f"loaded {runs} runs: Gannet {loaded - started:.0f} s, MLflow "
          f"{time.perf_counter() - loaded:.0f} s")
    gannet = time_gannet(services, gannet_experiment, repeats)
    mlflow = time_mlflow(store, mlflow_experiment, repeats)
    print(f"{'query (100 rows)':<22} {'Gannet page ms':>15} {'MLflow search ms':>17} "
          f"{'ratio':>7}  goal")
    for label in gannet:
        ratio = mlflow[label] / gannet[label]
        goal = "ok" if gannet[label] < GOAL_MS else f"over {GOAL_MS:.0f} ms"
        print(f"{label:<22} {gannet[label]:>15.1f} {mlflow[label]:>17.1f} {ratio:>6.2f}x  {goal}")
    print("(ratio > 1: Gannet's whole page is faster than MLflow's search call alone)")
    services.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
