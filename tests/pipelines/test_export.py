"""An exported Argo workflow: each task's command, run locally in dependency order, gives
the same result as running the pipeline."""

import json
import uuid

import yaml

from gannet.pipelines import load_pipeline

FLOW = """
    import gannet

    @gannet.step
    def load(n: int) -> list:
        return list(range(n))

    @gannet.step
    def split(xs: list) -> tuple[list, list]:
        return xs[: len(xs) // 2], xs[len(xs) // 2 :]

    @gannet.step
    def add(a: list, b: list, scale: float) -> float:
        return (sum(a) + 2 * sum(b)) * scale

    @gannet.pipeline
    def flow(n: int = 6, scale: float = 1.0):
        a, b = split(load(n))
        add(a, b, scale)
        add(b, a, scale)
"""


def _in_dependency_order(tasks):
    done, order = set(), []
    while len(order) < len(tasks):
        for task in tasks:
            if task["name"] not in done and set(task["dependencies"]) <= done:
                order.append(task)
                done.add(task["name"])
    return order


def test_each_step_of_the_exported_workflow_runs_with_the_same_result(
    gannet_cli, write_flow, sdk
):
    flow = write_flow(FLOW)
    exported = gannet_cli("pipeline", "export", str(flow), "--format", "argo", "-p", "n=8",
                          "--image", "registry.example.com/churn:1")
    assert exported.exit_code == 0, exported.output
    workflow = yaml.safe_load(exported.stdout)
    assert workflow["kind"] == "Workflow"
    dag, step = workflow["spec"]["templates"]
    assert step["container"]["image"] == "registry.example.com/churn:1"
    tasks = dag["dag"]["tasks"]
    assert {t["name"]: t["dependencies"] for t in tasks} == {
        "load": [], "split": ["load"], "add": ["split"], "add-2": ["split"]}
    values = {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}
    assert values == {"n": "8", "scale": "1.0"}

    uid = str(uuid.uuid4())
    for task in _in_dependency_order(tasks):
        args = [a.replace("{{inputs.parameters.step}}", task["arguments"]["parameters"][0]
                          ["value"]).replace("{{workflow.uid}}", uid) for a in step["container"]
                ["args"]]
        for name, value in values.items():
            args = [a.replace(f"{{{{workflow.parameters.{name}}}}}", value) for a in args]
        assert step["container"]["command"] == ["gannet"]
        done = gannet_cli(*args, "--json")
        assert done.exit_code == 0, done.output
    last = json.loads(done.stdout)
    assert last["status"] == "FINISHED" and len(last["steps"]) == 4
    run_id = uid.replace("-", "")
    direct = sdk.run_pipeline(load_pipeline(str(flow)), executor="local", no_cache=True, n=8)
    for name in ("add", "add_2"):
        assert sdk.load_output(run_id, name) == sdk.load_output(direct.run_id, name)
    assert sdk.get_run(run_id).info.status == "FINISHED"


def test_a_step_whose_inputs_did_not_finish_is_refused(gannet_cli, write_flow):
    flow = write_flow(FLOW)
    early = gannet_cli("pipeline", "step", str(flow), "add", "--run", uuid.uuid4().hex)
    assert early.exit_code == 5
    assert "step 'add' needs split, not finished in run" in early.stderr
    wrong = gannet_cli("pipeline", "export", str(flow), "--format", "airflow")
    assert wrong.exit_code == 3
