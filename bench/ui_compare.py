"""Benchmark: the web UI's comparison of 100 runs with 50 metrics each, against MLflow.

    bench/.venv/bin/python bench/ui_compare.py [--runs 100] [--metrics 50] [--steps 20]

The same runs (5 params, ``--metrics`` metrics of ``--steps`` points each) go into a Gannet
store and an MLflow SQLite store. Gannet: what the browser asks to draw the comparison,
over HTTP from a real team server on 127.0.0.1: the page ``GET /ui/compare?runs=...``
(every run's params, latest metrics and environment, the diffs, the parallel coordinates'
data), then one ``metric-history`` request per run for the overlaid curves of one metric.
MLflow (the anchor): what its compare view reads, in-process (no HTTP, no rendering):
``get_run`` of each run, then ``get_metric_history`` of the same metric for each run. The
median of ``--repeats`` after a warm-up; the goal (issue 15): the comparison stays fast,
here read as the whole comparison under one second.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from ui import median_ms  # bench/ui.py, beside this file

GOAL_MS = 1000.0
PARAMS = ("lr", "depth", "optimizer", "batch", "seed")


def values(i: int, metrics: int) -> tuple[dict[str, str], list[str]]:
    params = {"lr": str([0.1, 0.01, 0.001][i % 3]), "depth": str(2 + i % 9),
              "optimizer": ["adam", "sgd", "adamw"][i % 3], "batch": str(32 << (i % 4)),
              "seed": str(i)}
    return params, [f"m{k:02d}" for k in range(metrics)]


def load_gannet(root: Path, runs: int, metrics: int, steps: int) -> tuple[object, list[str]]:
    from gannet.bootstrap import build
    from gannet.core.settings import Settings
    from gannet.tracking.types import Metric

    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             capture_environment=False)
    services = build(settings)
    tracking = services.tracking
    experiment_id = tracking.create_experiment("bench-compare")
    ids = []
    for i in range(runs):
        run_id = tracking.create_run(experiment_id, run_name=f"run-{i}").info.run_id
        params, keys = values(i, metrics)
        points = [Metric(k, (i + s) / (steps + runs), 1_700_000_000_000 + s, s)
                  for k in keys for s in range(steps)]
        tracking.log_batch(run_id, metrics=points, params=params)
        ids.append(run_id)
    return services, ids


def load_mlflow(root: Path, runs: int, metrics: int, steps: int) -> tuple[object, list[str]]:
    from mlflow.entities import Metric, Param
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{root / 'mlflow.db'}", str(root / "mlartifacts"))
    experiment_id = store.create_experiment("bench-compare")
    ids = []
    for i in range(runs):
        run = store.create_run(experiment_id, "bench", 1_700_000_000_000, [], f"run-{i}")
        params, keys = values(i, metrics)
        points = [Metric(k, (i + s) / (steps + runs), 1_700_000_000_000 + s, s)
                  for k in keys for s in range(steps)]
        store.log_batch(run.info.run_id, [], [Param(k, v) for k, v in params.items()], [])
        for first in range(0, len(points), 1000):  # MLflow's limit per batch
            store.log_batch(run.info.run_id, points[first:first + 1000], [], [])
        ids.append(run.info.run_id)
    return store, ids


def time_gannet(services: object, ids: list[str], repeats: int) -> tuple[float, float]:
    """(the page alone, the page and the curves' requests), in ms."""
    import httpx

    from gannet.testing.server import running_server

    page = "/ui/compare?" + urlencode([("runs", r) for r in ids] + [("metric", "m00")])
    with running_server(services) as url, httpx.Client(base_url=url, timeout=60) as client:
        def get(path: str) -> None:
            answer = client.get(path)
            assert answer.status_code == 200, answer.text[:500]

        def whole() -> None:
            get(page)
            for run_id in ids:
                get(f"/ui/runs/{run_id}/metric-history?key=m00")

        return median_ms(lambda: get(page), repeats), median_ms(whole, repeats)


def time_mlflow(store: object, ids: list[str], repeats: int) -> float:
    def compare() -> None:
        for run_id in ids:
            store.get_run(run_id)  # type: ignore[attr-defined]
        for run_id in ids:
            store.get_metric_history(run_id, "m00")  # type: ignore[attr-defined]

    return median_ms(compare, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gannet-bench-compare-"))
    services, gannet_ids = load_gannet(root, args.runs, args.metrics, args.steps)
    store, mlflow_ids = load_mlflow(root, args.runs, args.metrics, args.steps)
    page, whole = time_gannet(services, gannet_ids, args.repeats)
    mlflow = time_mlflow(store, mlflow_ids, args.repeats)
    print(f"{args.runs} runs x {args.metrics} metrics x {args.steps} points")
    print(f"Gannet compare page alone (HTTP)            {page:8.1f} ms")
    print(f"Gannet page + {args.runs} curve requests (HTTP)   {whole:8.1f} ms  "
          f"{'ok' if whole < GOAL_MS else 'over'} (goal under {GOAL_MS:.0f} ms)")
    print(f"MLflow get_run + get_metric_history (in process) {mlflow:8.1f} ms")
    print(f"MLflow / Gannet (whole comparison)           {mlflow / whole:8.2f}x")
    services.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
