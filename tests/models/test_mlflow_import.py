"""MLflow model folders (built here by hand, as mlflow writes them) become Gannet packages."""

import json
import warnings

import numpy as np
import pytest
import sklearn
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied
from gannet.models import ColumnSpec, import_mlflow_model, load_model, read_meta, verify_files
from gannet.testing.mlflow_folders import (
    mlflow_quietly,
    save_python_model_with_mlflow,
    save_with_mlflow,
    write_mlflow_folder,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X.iloc[::2], y.iloc[::2])
    return model, X.iloc[1::2]


def test_sklearn_mlflow_model_becomes_a_pickle_package(tmp_path, iris):
    model, held_out = iris
    source = write_mlflow_folder(tmp_path / "mlflow-model", model)
    meta = import_mlflow_model(source, tmp_path / "package")
    assert (meta.flavor, meta.serialization) == ("sklearn", "pickle")
    assert meta.run_id == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert meta.python_version == "3.11.7"
    assert meta.libraries == {"scikit-learn": sklearn.__version__}
    assert "cloudpickle==3.0.0" in meta.requirements and "mlflow==2.14.1" in meta.requirements
    assert meta.signature.inputs.columns[0] == ColumnSpec("sepal length (cm)", "float64")
    assert meta.signature.outputs.columns[0] == ColumnSpec(None, "int64", (-1,))
    assert set(meta.files) == {
        "model.pkl",
        "MLmodel",  # ours: MLflow can load the package back
        "requirements.txt",
        "python_env.yaml",
        "mlflow/MLmodel",
        "mlflow/conda.yaml",
        "mlflow/python_env.yaml",
        "mlflow/requirements.txt",
    }
    verify_files(tmp_path / "package", read_meta(tmp_path / "package"))
    with pytest.raises(PermissionDenied, match="trust=True"):
        load_model(tmp_path / "package")
    loaded = load_model(tmp_path / "package", trust=True)
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))
    np.testing.assert_array_equal(loaded.predict(held_out.to_numpy()), model.predict(held_out))
    assert loaded.has_predict_proba


def test_python_function_only_folder_with_the_sklearn_loader(tmp_path, iris):
    model, held_out = iris
    pyfunc = {"python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl"}}
    source = write_mlflow_folder(tmp_path / "m", model, flavors=pyfunc, signature=False)
    meta = import_mlflow_model(source, tmp_path / "package")
    assert meta.signature is None and meta.python_version == "3.11.7"
    loaded = load_model(tmp_path / "package", trust=True)
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))


def test_other_mlflow_flavors_are_refused_with_the_way_out(tmp_path, iris):
    model, _ = iris
    flavors = {"python_function": {"loader_module": "mlflow.pytorch"}, "pytorch": {}}
    source = write_mlflow_folder(tmp_path / "m", model, flavors=flavors)
    with pytest.raises(InvalidArgument, match="flavors python_function") as caught:
        import_mlflow_model(source, tmp_path / "package")
    message = str(caught.value)
    assert "loader mlflow.pytorch" in message and "pytorch" in message
    assert "'sklearn' (skops, pickle or cloudpickle)" in message  # what is supported
    assert "save_model" in message
    assert not (tmp_path / "package").exists()


def test_a_model_file_outside_the_folder_is_refused(tmp_path, iris):
    model, _ = iris
    flavors = {"sklearn": {"pickled_model": "../outside.pkl", "serialization_format": "pickle"}}
    source = write_mlflow_folder(tmp_path / "m", model, flavors=flavors)
    with pytest.raises(InvalidArgument, match="outside the folder"):
        import_mlflow_model(source, tmp_path / "package")


def test_unknown_column_type_is_named(tmp_path, iris):
    model, _ = iris
    source = write_mlflow_folder(tmp_path / "m", model)
    doc = yaml.safe_load((source / "MLmodel").read_text())
    doc["signature"]["inputs"] = json.dumps([{"type": "duration", "name": "wait"}])
    (source / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidArgument, match="column 'wait' has type 'duration'"):
        import_mlflow_model(source, tmp_path / "package")


def test_a_folder_without_mlmodel_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="no MLmodel file"):
        import_mlflow_model(tmp_path, tmp_path / "package")


def test_an_unknown_serialization_format_is_named_with_the_supported_ones(tmp_path, iris):
    model, _ = iris
    flavors = {"sklearn": {"pickled_model": "model.pkl", "serialization_format": "joblib"}}
    source = write_mlflow_folder(tmp_path / "m", model, flavors=flavors)
    with pytest.raises(InvalidArgument, match="'joblib' is not one Gannet imports "
                       r"\(skops, cloudpickle, pickle\)"):
        import_mlflow_model(source, tmp_path / "package")


# -- what the real mlflow 3 writes by default ---------------------------------------------


def test_mlflow3_default_skops_model_loads_safely_without_trust(tmp_path, iris):
    model, held_out = iris
    source = save_with_mlflow(tmp_path / "mlflow-model", model, held_out.head(3))
    assert yaml.safe_load((source / "MLmodel").read_text())["flavors"]["sklearn"][
        "serialization_format"] == "skops"
    meta = import_mlflow_model(source, tmp_path / "package", run_id="a" * 32)
    assert (meta.flavor, meta.serialization) == ("sklearn", "skops")
    assert meta.run_id == "a" * 32 and meta.extra["imported_from"] == "mlflow"
    assert {"model.skops", "input_example.json", "mlflow/MLmodel"} <= set(meta.files)
    assert "skops" in meta.requirements  # MLflow's requirements are kept
    assert meta.signature.inputs.names == list(held_out.columns)
    assert meta.signature.outputs.columns == (ColumnSpec(None, "int64", (-1,)),)
    assert json.loads((tmp_path / "package" / "input_example.json").read_text()) == json.loads(
        (source / "serving_input_example.json").read_text())
    loaded = load_model(tmp_path / "package")  # skops with trusted types only: no trust needed
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))


def test_a_skops_file_with_types_outside_sklearn_is_refused_whatever_mlmodel_trusts(tmp_path):
    from custom_models import AddConstant
    from sklearn.pipeline import make_pipeline

    X, y = load_iris(return_X_y=True)
    model = make_pipeline(AddConstant(), LogisticRegression(max_iter=500)).fit(X, y)
    source = save_with_mlflow(tmp_path / "m", model,
                              skops_trusted_types=["custom_models.AddConstant"])
    with pytest.raises(InvalidArgument, match="custom_models.AddConstant") as caught:
        import_mlflow_model(source, tmp_path / "package")
    assert "gannet.models.save_model" in (caught.value.hint or "")
    assert not (tmp_path / "package").exists()


def test_a_python_function_model_becomes_the_python_flavor_and_runs_only_trusted(
    tmp_path, iris, settings
):
    from gannet import GannetClient

    mlflow = mlflow_quietly()

    with warnings.catch_warnings():  # mlflow asks for type hints
        warnings.simplefilter("ignore")

        class Doubled(mlflow.pyfunc.PythonModel):  # cloudpickled by value, as users write them
            def predict(self, context, model_input, params=None):
                return model_input.sum(axis=1) * 2

    _, held_out = iris
    source = save_python_model_with_mlflow(tmp_path / "pyfunc", Doubled(), held_out.head(3))
    meta = import_mlflow_model(source, tmp_path / "package")
    assert (meta.flavor, meta.serialization) == ("python", "python-class")
    assert "artifacts/python_model.pkl" in meta.files and "input_example.json" in meta.files
    assert any(r.startswith("mlflow") for r in meta.requirements)
    assert meta.signature.inputs.names == list(held_out.columns)
    with pytest.raises(PermissionDenied, match="MLflow python_function model"):
        load_model(tmp_path / "package")  # a cloudpickle is a pickle: never without trust
    expected = held_out.sum(axis=1) * 2
    trusted = load_model(tmp_path / "package", trust=True)
    np.testing.assert_allclose(trusted.predict(held_out), expected)

    client = GannetClient(settings)  # registered, it is signed: it loads without trust
    try:
        client.register_model(tmp_path / "package", "doubled")
        np.testing.assert_allclose(client.load_model("doubled/1").predict(held_out), expected)
    finally:
        client.close()
