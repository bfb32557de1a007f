"""Outputs between steps through materializers chosen by type."""

import pytest

from gannet.core.errors import InvalidArgument
from gannet.pipelines import load_pipeline

TYPED = """
    import numpy as np, pandas as pd, pyarrow as pa
    import gannet

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    @gannet.step
    def tables() -> tuple[pd.DataFrame, pa.Table, np.ndarray]:
        frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
        return frame, pa.table({"a": [1, 2]}), np.arange(6).reshape(2, 3)

    @gannet.step
    def score(frame: pd.DataFrame, table: pa.Table, arr: np.ndarray) -> float:
        return float(frame["y"].sum()) + float(arr.sum()) + len(table)

    @gannet.step
    def point() -> Point:
        return Point(1, 2)

    @gannet.pipeline
    def typed(with_point: bool = False):
        frame, table, arr = tables()
        score(frame, table, arr)
        if with_point:
            point()
"""


def test_tables_and_arrays_travel_between_steps(sdk, write_flow):
    typed = load_pipeline(str(write_flow(TYPED)))
    run = sdk.run_pipeline(typed, executor="local")
    assert run.status == "FINISHED", [s.error for s in run.steps]
    assert sdk.load_output(run.run_id, "score") == 19.0
    frame = sdk.load_output(run.run_id, "tables", "output_0")
    assert list(frame.columns) == ["x", "y"] and len(frame) == 4
    assert sdk.load_output(run.run_id, "tables", "output_1").to_pydict() == {"a": [1, 2]}
    assert sdk.load_output(run.run_id, "tables", "output_2").shape == (2, 3)
    stored = {n: v.materializer for n, v in run.step("tables").outputs.items()}
    assert stored == {"output_0": "parquet-pandas", "output_1": "parquet-arrow",
                      "output_2": "numpy"}
    again = sdk.run_pipeline(typed, executor="local")
    assert all(s.cached for s in again.steps)


MODEL = """
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    import gannet

    @gannet.step
    def train() -> LogisticRegression:
        frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
        return LogisticRegression().fit(frame[["x"]], frame["y"])

    @gannet.step
    def predict(model: LogisticRegression) -> list:
        return model.predict(pd.DataFrame({"x": [0.0, 3.0]})).tolist()

    @gannet.pipeline
    def modelled():
        predict(train())
"""


@pytest.mark.slow  # imports scikit-learn and skops
def test_models_travel_as_packages_and_garbage_collection_keeps_them(sdk, write_flow):
    run = sdk.run_pipeline(load_pipeline(str(write_flow(MODEL))), executor="local")
    assert run.status == "FINISHED", [s.error for s in run.steps]
    assert sdk.load_output(run.run_id, "predict") == [0, 1]
    assert run.step("train").outputs["output"].materializer == "model"
    collected = sdk.get_client().services.gc.collect(0)  # outputs are live references
    assert collected.missing == [] and collected.blobs_deleted == 0
    assert type(sdk.load_output(run.run_id, "train")).__name__ == "LogisticRegression"


def test_a_type_without_materializer_fails_its_step_naming_the_type_until_registered(
    sdk, write_flow
):
    typed = load_pipeline(str(write_flow(TYPED)))
    run = sdk.run_pipeline(typed, executor="local", with_point=True)
    assert run.step("point").status == "FAILED"
    assert "returned a gannet_pipeline_flow_" in run.step("point").error
    assert ".Point, which no materializer can store" in run.step("point").error
    assert "register_materializer" in run.step("point").traceback

    from gannet.pipelines import register_materializer

    point_type = type(typed.fn.__globals__["point"].fn())
    register_materializer(
        point_type,
        save=lambda p, path: path.write_text(f"{p.x},{p.y}"),
        load=lambda path: point_type(*map(int, path.read_text().split(","))),
        name="point",
    )
    run = sdk.run_pipeline(typed, executor="local", with_point=True)
    assert vars(sdk.load_output(run.run_id, "point")) == {"x": 1, "y": 2}


def test_an_unknown_output_or_step_is_refused(sdk, write_flow):
    typed = load_pipeline(str(write_flow(TYPED)))
    run = sdk.run_pipeline(typed, executor="local")
    with pytest.raises(InvalidArgument):
        sdk.load_output(run.run_id, "tables")
    from gannet.core.errors import NotFound

    with pytest.raises(NotFound, match="has no output 'rows'"):
        sdk.load_output(run.run_id, "tables", "rows")
    with pytest.raises(NotFound, match="has no step 'nope'"):
        sdk.load_output(run.run_id, "nope")
    with pytest.raises(NotFound, match="no pipeline run with id 'x'"):
        sdk.load_output("x", "nope")
