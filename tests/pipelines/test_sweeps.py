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


def test_a_sweep_on_a_dask_cluster(gannet_cli, write_flow):
    pytest.importorskip("optuna")
    distributed = pytest.importorskip("distributed")
    flow = write_flow(FLOW)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as c:
        done = gannet_cli("sweep", str(flow), "-p", "model=choice(logreg,gbm)", "-p", "n=3",
                          "--trials", "2", "--metric", "val_auc", "--sampler", "grid",
                          "--executor", "dask", "--address", c.scheduler_address,
                          "--parallel", "2", "--json")
    assert done.exit_code == 0, done.output
    found = json.loads(done.stdout)
    assert sorted(t["params"]["model"] for t in found["trials"]) == ["gbm", "logreg"]
    assert found["best"]["params"]["model"] == "gbm"


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
    pruner = gannet_cli("sweep", flow, "-p", "lr=uniform(0,1)", "--metric", "val_auc",
                        "--pruner", "hyperband")
    assert pruner.exit_code == 3 and "no pruner 'hyperband'" in pruner.stderr


EPOCHS = """
    import gannet
    from gannet.pipelines import log_metric, report

    @gannet.step
    def fit(x: int, epochs: int) -> float:
        score = 0.0
        for epoch in range(1, epochs + 1):
            score = -100.0 * epoch if x <= 4 else float(epoch)  # x 1 to 4: clearly bad
            report(epoch, score)
        log_metric("val", score)
        return score

    @gannet.pipeline
    def epochs(x: int = 5, epochs: int = 4):
        fit(x, epochs)
"""


def test_the_median_pruner_stops_clearly_bad_trials(gannet_cli, write_flow, sdk, settings):
    pytest.importorskip("optuna")
    flow = str(write_flow(EPOCHS))
    done = gannet_cli("sweep", flow, "-p", "x=int(1,20)", "--trials", "20", "--metric",
                      "val", "--sampler", "grid", "--executor", "processes", "--json")
    assert done.exit_code == 0, done.output
    trials = json.loads(done.stdout)["trials"]
    pruned = [t for t in trials if t["status"] == "PRUNED"]
    assert pruned and all(t["params"]["x"] <= 4 for t in pruned)  # only bad ones, some
    assert all(t["status"] == "COMPLETE" for t in trials if t["params"]["x"] > 4)
    trial = pruned[0]
    assert trial["value"] == -100.0  # Optuna keeps a pruned trial's last reported value
    best = json.loads(done.stdout)["best"]
    assert best["status"] == "COMPLETE" and best["value"] == 4.0
    run = sdk.get_run(trial["run_id"])
    assert run.info.status == "KILLED" and run.data.tags["gannet.pruned"] == "true"
    pipeline_run = sdk.get_client().get_pipeline_run(trial["run_id"])
    assert pipeline_run.status == "PRUNED"
    fit = pipeline_run.step("fit")
    assert fit.status == "PRUNED" and "pruned at step 1" in fit.error
    step_run = sdk.get_run(fit.step_run_id)
    assert step_run.info.status == "KILLED" and step_run.data.tags["gannet.pruned"] == "true"
    history = sdk.get_metric_history(fit.step_run_id, "intermediate_value")
    assert [(m.step, m.value) for m in history] == [(1, -100.0)]  # stopped at its first report
    assert not list((settings.home / "cache" / "sweeps").iterdir())  # the journal is gone

    kept = gannet_cli("sweep", flow, "-p", "x=int(1,8)", "-p", "epochs=3", "--trials", "8",
                      "--metric", "val", "--sampler", "grid", "--executor", "local",
                      "--pruner", "none", "--json")
    assert kept.exit_code == 0, kept.output
    assert all(t["status"] == "COMPLETE" for t in json.loads(kept.stdout)["trials"])


def test_report_outside_a_sweep_records_the_values_and_never_prunes(sdk, write_flow):
    from gannet.pipelines import load_pipeline

    epochs = load_pipeline(str(write_flow(EPOCHS)))
    run = sdk.run_pipeline(epochs, executor="local", x=1, epochs=3)
    assert run.status == "FINISHED", [s.error for s in run.steps]
    history = sdk.get_metric_history(run.step("fit").step_run_id, "intermediate_value")
    assert [(m.step, m.value) for m in history] == [(1, -100.0), (2, -200.0), (3, -300.0)]


MODELS = """
    import gannet
    from gannet.pipelines import log_metric
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    @gannet.step
    def fit(depth: int) -> DecisionTreeClassifier:
        X, y = load_breast_cancer(return_X_y=True)
        log_metric("closeness", -abs(depth - 3))  # best at a depth of 3
        return DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X[:, :4], y)

    @gannet.step
    def other(depth: int) -> DecisionTreeClassifier:
        X, y = load_breast_cancer(return_X_y=True)
        return DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X[:, :2], y)

    @gannet.pipeline
    def tuned(depth: int = 2, both: bool = False):
        fit(depth)
        if both:
            other(depth)
"""


@pytest.mark.slow  # trains a few scikit-learn models
def test_the_best_trials_model_is_registered_with_its_lineage(gannet_cli, write_flow, sdk):
    pytest.importorskip("optuna")
    flow = str(write_flow(MODELS))
    done = gannet_cli("sweep", flow, "-p", "depth=int(1,5)", "--trials", "5",
                      "--metric", "closeness", "--sampler", "grid", "--executor", "local",
                      "--register", "tuned-model", "--json")
    assert done.exit_code == 0, done.output
    sweep = json.loads(done.stdout)
    assert sweep["best"]["params"]["depth"] == 3 and sweep["registered"] == "tuned-model/1"
    version = sdk.get_client().get_model_version("tuned-model", "1")
    fit = sdk.get_client().get_pipeline_run(sweep["best"]["run_id"]).step("fit")
    assert version.run_id == fit.step_run_id  # the step's run: its lineage comes along
    assert version.tags["gannet.sweep"] == sweep["run_id"]
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True)
    best_tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[:, :4], y)
    served = sdk.load_model("models:/tuned-model/1")  # the best trial's own tree
    assert list(served.predict(X[:50, :4])) == list(best_tree.predict(X[:50, :4]))

    several = gannet_cli("sweep", flow, "-p", "depth=int(2,3)", "-p", "both=true",
                         "--trials", "1", "--metric", "closeness", "--sampler", "grid",
                         "--executor", "local", "--register", "tuned-model")
    assert several.exit_code == 3 and "fit, other" in several.output
    assert "--register-step" in several.output
    chosen = gannet_cli("sweep", flow, "-p", "depth=int(2,3)", "-p", "both=true",
                        "--trials", "1", "--metric", "closeness", "--sampler", "grid",
                        "--executor", "local", "--register", "tuned-model",
                        "--register-step", "other")
    assert chosen.exit_code == 0, chosen.output
    assert "registered tuned-model/2" in chosen.output
