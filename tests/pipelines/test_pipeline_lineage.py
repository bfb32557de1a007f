"""Dataset versions into steps, models out: lineage edges from a pipeline's step runs."""

import json

import pandas as pd
import pytest

from gannet.pipelines import load_pipeline

TRAIN = """
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    import gannet
    from gannet.data.types import DatasetVersion

    @gannet.step
    def load(dataset: DatasetVersion) -> pd.DataFrame:
        return gannet.data.open(dataset.ref, as_="pandas")

    @gannet.step
    def train(frame: pd.DataFrame) -> LogisticRegression:
        return LogisticRegression().fit(frame[["x"]], frame["y"])

    @gannet.pipeline
    def churn(dataset: str = "churn@1"):
        train(load(dataset))
"""


def _add_churn(sdk, rows: int) -> str:
    frame = pd.DataFrame({"x": [float(i) for i in range(rows)],
                          "y": [i % 2 for i in range(rows)]})
    return sdk.data.add(frame, "churn").version.ref


def _lineage(gannet_cli, ref: str) -> dict:
    done = gannet_cli("lineage", ref, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_a_step_given_a_dataset_reference_leaves_lineage_to_its_runs_and_models(
    sdk, write_flow, gannet_cli
):
    assert _add_churn(sdk, 8) == "churn@1"
    churn = load_pipeline(str(write_flow(TRAIN)))
    run = sdk.run_pipeline(churn, executor="local", dataset="churn@1")
    assert run.status == "FINISHED", [s.error for s in run.steps]
    load_run, train_run = run.step("load").step_run_id, run.step("train").step_run_id
    version = sdk.data.resolve("churn@1")
    inputs = json.loads(sdk.get_run(load_run).data.tags["gannet.step.inputs"])
    assert inputs == {"dataset": version.manifest_digest}

    used = {r["run_id"]: r["context"] for r in _lineage(gannet_cli, "churn@1")["runs"]}
    assert used == {load_run: "pipeline step load",
                    train_run: "pipeline step train (upstream)",
                    run.run_id: "pipeline churn"}

    # the model the train step returned is its run's artifact: registered, it keeps the data
    assert sdk.get_run(train_run).data.tags["gannet.model.output"] == "sklearn"
    mv = sdk.register_model(f"runs:/{train_run}/output", "churn-model")
    assert mv.run_id == train_run
    model = _lineage(gannet_cli, f"churn-model/{mv.version}")
    assert [d["dataset_version"] for d in model["datasets"]] == ["churn@1"]

    again = sdk.run_pipeline(churn, executor="local", dataset="churn@1")
    assert [s.cached for s in again.steps] == [True, True]
    assert _add_churn(sdk, 10) == "churn@2"
    latest = sdk.run_pipeline(churn, executor="local", dataset="churn")
    assert [s.cached for s in latest.steps] == [False, False]  # "churn" names version 2 now
    assert len(sdk.load_output(latest.run_id, "load")) == 10
    assert latest.step("load").step_run_id in {
        r["run_id"] for r in _lineage(gannet_cli, "churn@2")["runs"]}


def test_a_reference_to_no_dataset_version_fails_the_step_by_name(sdk, write_flow):
    _add_churn(sdk, 4)
    churn = load_pipeline(str(write_flow(TRAIN)))
    run = sdk.run_pipeline(churn, executor="local", dataset="churn@7")
    assert run.status == "FAILED"
    load = run.step("load")
    assert load.status == "FAILED" and "churn" in load.error and "7" in load.error
    assert run.step("train").status == "PENDING"
    assert sdk.get_run(load.step_run_id).info.status == "FAILED"


PASS_ON = """
    import gannet
    from gannet.data.types import DatasetVersion

    @gannet.step
    def choose(dataset: DatasetVersion) -> DatasetVersion:
        return dataset

    @gannet.step
    def use(version: DatasetVersion) -> str:
        assert isinstance(version, DatasetVersion), type(version)
        return f"{version.ref} {len(version.columns)}"

    @gannet.pipeline
    def handover(dataset: str = "churn"):
        use(choose(dataset))
"""


@pytest.mark.parametrize("executor", ["local", "processes"])
def test_a_returned_dataset_version_is_stored_by_reference(
    sdk, write_flow, gannet_cli, executor
):
    _add_churn(sdk, 4)
    handover = load_pipeline(str(write_flow(PASS_ON)))
    run = sdk.run_pipeline(handover, executor=executor)
    assert run.status == "FINISHED", [s.error for s in run.steps]
    version = sdk.data.resolve("churn@1")
    assert sdk.load_output(run.run_id, "choose") == version
    assert run.step("choose").outputs["output"].materializer == "dataset-version"
    assert sdk.load_output(run.run_id, "use") == "churn@1 2"
    use_run = sdk.get_run(run.step("use").step_run_id)
    assert json.loads(use_run.data.tags["gannet.step.inputs"]) == {
        "version": version.manifest_digest}
    contexts = {r["run_id"]: r["context"] for r in _lineage(gannet_cli, "churn@1")["runs"]}
    assert contexts[use_run.info.run_id] == "pipeline step use"
    assert contexts[run.step("choose").step_run_id] == "pipeline step choose"


def test_dataset_versions_reach_steps_on_a_dask_cluster(sdk, write_flow, gannet_cli):
    distributed = pytest.importorskip("distributed")
    _add_churn(sdk, 4)
    handover = load_pipeline(str(write_flow(PASS_ON)))
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as c:
        run = sdk.run_pipeline(handover, executor="dask", address=c.scheduler_address,
                               dataset="churn@1")
    assert run.status == "FINISHED", [s.error for s in run.steps]
    assert sdk.load_output(run.run_id, "use") == "churn@1 2"
    used = {r["run_id"] for r in _lineage(gannet_cli, "churn@1")["runs"]}
    assert {run.step("choose").step_run_id, run.step("use").step_run_id} <= used
