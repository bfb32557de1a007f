"""Sweeps: trials are pipeline runs nested under the sweep's run; the best is reported."""

import json

import pytest

FLOW = """
    import gannet
    from gannet.pipelines import log_metric

    @gannet.step
    def data(n: int) -> list:
        return list(range(n))

    @gannet.step
    def fit(xs: list, lr: float, model: str) -> float:
        score = 1 - (lr - 0.01) ** 2 + (0.5 if model == "gbm" else 0.0)
        log_metric("val_auc", score)
        return score

    @gannet.pipeline
    def tune(n: int = 5, lr: float = 0.1, model: str = "logreg"):
        fit(data(n), lr, model)
"""


def test_a_sweep_runs_trials_as_nested_runs_and_reports_the_best(gannet_cli, write_flow, sdk):
    pytest.importorskip("optuna")
    flow = write_flow(FLOW)
    done = gannet_cli("sweep", str(flow), "--param", "lr=loguniform(1e-3,1e-1)", "--param",
                      "model=choice(logreg,gbm)", "--param", "n=4", "--trials", "6",
                      "--metric", "val_auc", "--direction", "max", "--sampler", "random",
                      "--executor", "local", "--json")
    assert done.exit_code == 0, done.output
    sweep = json.loads(done.stdout)
    assert len(sweep["trials"]) == 6 and all(t["status"] == "COMPLETE" for t in sweep["trials"])
    best = sweep["best"]
    assert best["value"] == max(t["value"] for t in sweep["trials"])
    assert best["params"]["model"] == "gbm"
    trial_run = sdk.get_run(best["run_id"])
    assert trial_run.info.parent_run_id == sweep["run_id"]
    assert trial_run.data.params["model"] == "gbm"
    parent = sdk.get_run(sweep["run_id"])
    assert parent.data.metrics["best_val_auc"] == best["value"]
    assert parent.data.tags["gannet.sweep.best_run"] == best["run_id"]

    grid = gannet_cli("sweep", str(flow), "-p", "model=choice(logreg,gbm)", "-p", "n=int(2,3)",
                      "--trials", "4", "--metric", "fit", "--direction", "min", "--sampler",
                      "grid", "--executor", "local", "--json")
    assert grid.exit_code == 0, grid.output
    found = json.loads(grid.stdout)
    assert sorted((t["params"]["model"], t["params"]["n"]) for t in found["trials"]) == [
        ("gbm", 2), ("gbm", 3), ("logreg", 2), ("logreg", 3)]
    assert found["best"]["params"]["model"] == "logreg"  # the step's output as the value


def test_bad_sweeps_are_refused(gannet_cli, write_flow):
    pytest.importorskip("optuna")
    flow = str(write_flow(FLOW))
    no_space = gannet_cli("sweep", flow, "-p", "lr=0.1", "--metric", "val_auc")
    assert no_space.exit_code == 3 and "at least one parameter with a search space" in \
        no_space.stderr
    wrong = gannet_cli("sweep", flow, "-p", "lr=uniform(a,b)", "--metric", "val_auc")
    assert wrong.exit_code == 3
    grid = gannet_cli("sweep", flow, "-p", "lr=uniform(0,1)", "--metric", "x", "--sampler",
                      "grid")
    assert grid.exit_code == 3 and "grid sampler needs choice" in grid.stderr
