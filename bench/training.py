"""Benchmark: what the continuous-training controller adds, from trigger to a promoted
challenger, to the work of the pipeline itself.

    python bench/training.py [--cycles 5] [--quick]

On the embedded default (SQLite and a local folder in a temporary home): a weak champion
served by a deployment, and a policy whose trigger is a new version of the training
dataset, whose pipeline is trivial (a logistic regression on 200 generated rows, run
in process) and whose rollout has three zero-length stages (10%, 50%, 100%, no traffic
needed). Each cycle adds a dataset version and times one ``tick`` - trigger, retrain,
register, evaluate against the champion on held-out rows, three traffic changes, promote -
then times the same pipeline run alone (same parameters, no cache). The controller's
overhead is the difference; the goal is under 1 s. ``--quick`` runs 2 cycles (a smoke
check only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PIPELINE = '''
import gannet, gannet.data


@gannet.step
def train(data: str):
    from sklearn.linear_model import LogisticRegression

    frame = gannet.data.open(data, as_="pandas")
    return LogisticRegression().fit(frame[["a", "b"]], frame["y"])


@gannet.pipeline(name="retrain")
def retrain(data: str = "bench-train@1"):
    train(data)
'''

POLICY = """
model: bench
deployment: bench
triggers: [{dataset: bench-train}]
pipeline: {file: train.py, params: {data: "${dataset}"}, executor: local}
evaluation: {dataset: bench-holdout, label: y, metric: accuracy, min_improvement: -1}
rollout:
  stages: [{weight: 10}, {weight: 50}, {weight: 100}]
"""


def rows(n: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    x = np.random.default_rng(seed).normal(size=(n, 2))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": (x[:, 0] + x[:, 1] > 0).astype(int)})


def setup(home: Path) -> Any:
    from sklearn.dummy import DummyClassifier

    from gannet import bootstrap
    from gannet.core.settings import Settings

    settings = Settings.load(environ={}, cwd=home, home=home / ".gannet", progress=False)
    services = bootstrap.build(settings)
    bootstrap.use_default_services(lambda: services)
    services.data.add_table(rows(200, 1), "bench-train")
    holdout = rows(200, 2)
    services.data.add_table(holdout, "bench-holdout")
    run = services.tracking.create_run("0")
    X = holdout[["a", "b"]]
    services.registry.log_model(run.info.run_id, DummyClassifier().fit(X, holdout["y"]),
                                "model", input_example=X.head(3))
    services.registry.register_model(run.info.run_id, "bench")
    services.registry.set_registered_model_alias("bench", "champion", 1)
    services.deployments.create_deployment("bench", "bench")
    (home / "train.py").write_text(PIPELINE)
    services.training.apply_policy(POLICY, folder=home)
    return services


def cycle(services: Any, seed: int) -> dict[str, float]:
    from gannet.pipelines.loading import load_pipeline

    training = services.training
    version = services.data.add_table(rows(200, seed), "bench-train").version.version
    started = time.perf_counter()
    report = training.tick()
    loop = time.perf_counter() - started
    status = training.get_policy_status("bench")
    if status.phase != "promoted" or report.errors:
        raise SystemExit(f"the cycle ended {status.phase}: {report.errors}")
    target = status.policy.pipeline.target
    started = time.perf_counter()
    services.pipelines.run_pipeline(
        load_pipeline(target), {"data": f"bench-train@{version}"}, target=target,
        executor="local", no_cache=True)
    alone = time.perf_counter() - started
    return {"loop_s": loop, "pipeline_s": alone, "overhead_s": loop - alone,
            "decisions": len(report.decisions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 cycles: a smoke check")
    args = parser.parse_args()
    cycles = 2 if args.quick else args.cycles
    with tempfile.TemporaryDirectory(prefix="gannet-bench-training-") as folder:
        services = setup(Path(folder))
        try:
            cycle(services, 100)  # warm-up: imports, first loads
            found = [cycle(services, 101 + i) for i in range(cycles)]
        finally:
            services.close()
    overhead = statistics.median(r["overhead_s"] for r in found)
    summary = {
        "cycles": cycles,
        "decisions_per_cycle": found[0]["decisions"],
        "loop_s_median": round(statistics.median(r["loop_s"] for r in found), 4),
        "pipeline_s_median": round(statistics.median(r["pipeline_s"] for r in found), 4),
        "controller_overhead_s_median": round(overhead, 4),
        "goal_s": 1.0,
        "met": overhead < 1.0,
    }
    print(json.dumps(summary, indent=2))
    sys.exit(0 if summary["met"] else 1)


if __name__ == "__main__":
    main()
