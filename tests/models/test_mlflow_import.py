"""MLflow model folders (built here by hand, as mlflow writes them) become Gannet packages."""

import json

import numpy as np
import pytest
import sklearn
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied
from gannet.models import ColumnSpec, import_mlflow_model, load_model, read_meta, verify_files
from gannet.testing.mlflow_folders import write_mlflow_folder


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
    with pytest.raises(InvalidArgument, match="only scikit-learn models") as caught:
        import_mlflow_model(source, tmp_path / "package")
    assert "save_model" in str(caught.value)
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
