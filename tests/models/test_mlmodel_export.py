"""Every Gannet package carries an MLmodel: the real mlflow loads it (and so can
``mlflow models serve``, MLServer and KServe), through Gannet's own checks."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from gannet.core.errors import IntegrityError, InvalidInput, PermissionDenied
from gannet.models import MANIFEST, import_mlflow_model, load_model, read_meta, save_model
from gannet.models.mlflow_pyfunc import TRUST_VARIABLE
from gannet.testing.mlflow_folders import mlflow_quietly, save_with_mlflow


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X.iloc[::2], y.iloc[::2])
    return model, X.iloc[1::2]


@pytest.fixture(autouse=True)
def _no_trust_from_outside(monkeypatch):
    monkeypatch.delenv(TRUST_VARIABLE, raising=False)


def test_mlflow_pyfunc_loads_a_gannet_sklearn_package_and_predicts_the_same(tmp_path, iris):
    model, held_out = iris
    meta = save_model(model, tmp_path / "pkg", input_example=held_out.head(5))
    assert {"MLmodel", "requirements.txt", "python_env.yaml"} <= set(meta.files)  # signed too
    mlflow = mlflow_quietly()

    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "pkg"))
    gannet_model = load_model(tmp_path / "pkg")
    np.testing.assert_array_equal(pyfunc.predict(held_out), gannet_model.predict(held_out))
    assert type(pyfunc.get_raw_model()) is LogisticRegression
    # MLflow's own sklearn flavor reads the same skops file, with the types Gannet trusts
    np.testing.assert_array_equal(
        mlflow.sklearn.load_model(str(tmp_path / "pkg")).predict(held_out), model.predict(held_out)
    )
    mlmodel = yaml.safe_load((tmp_path / "pkg" / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert [c["name"] for c in inputs] == list(held_out.columns)
    assert {c["type"] for c in inputs} == {"double"}
    requirements = (tmp_path / "pkg" / "requirements.txt").read_text().splitlines()
    assert requirements[0].startswith("gannet-mlops==") and any(
        r.startswith("scikit-learn==") for r in requirements)


def test_mlflow_checks_input_against_the_signature_gannet_wrote(tmp_path, iris):
    model, held_out = iris
    save_model(model, tmp_path / "pkg", input_example=held_out.head(5))
    mlflow = mlflow_quietly()
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "pkg"))
    with pytest.raises(mlflow.exceptions.MlflowException, match="missing inputs.*petal width"):
        pyfunc.predict(held_out.drop(columns=["petal width (cm)"]))


def test_an_altered_mlmodel_is_caught_like_any_other_file(tmp_path, iris):
    model, _ = iris
    save_model(model, tmp_path / "pkg")
    path = tmp_path / "pkg" / "MLmodel"
    path.write_text(path.read_text().replace("gannet.models.mlflow_pyfunc", "evil.loader"))
    with pytest.raises(IntegrityError, match="MLmodel has changed"):
        load_model(tmp_path / "pkg")


def test_a_package_that_runs_code_needs_an_explicit_trust_under_mlflow_too(
    tmp_path, iris, monkeypatch
):
    from custom_models import AddConstant
    from sklearn.pipeline import make_pipeline

    _, held_out = iris
    X, y = load_iris(return_X_y=True, as_frame=True)
    custom = make_pipeline(AddConstant(), DecisionTreeClassifier(random_state=0)).fit(X, y)
    meta = save_model(custom, tmp_path / "pkg")
    assert meta.serialization == "pickle"
    mlmodel = yaml.safe_load((tmp_path / "pkg" / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"] == {
        "pickled_model": "model.pkl", "serialization_format": "pickle",
        "sklearn_version": meta.libraries["scikit-learn"], "code": None,
    }
    mlflow = mlflow_quietly()
    with pytest.raises(PermissionDenied, match=f"set {TRUST_VARIABLE}=true"):
        mlflow.pyfunc.load_model(str(tmp_path / "pkg"))
    monkeypatch.setenv(TRUST_VARIABLE, "true")
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "pkg"))
    np.testing.assert_array_equal(pyfunc.predict(held_out), custom.predict(held_out))


def test_an_imported_mlflow_model_goes_back_to_mlflow(tmp_path, iris):
    model, held_out = iris
    source = save_with_mlflow(tmp_path / "mlflow-model", model, held_out.head(3))
    import_mlflow_model(source, tmp_path / "pkg")
    pyfunc = mlflow_quietly().pyfunc.load_model(str(tmp_path / "pkg"))
    np.testing.assert_array_equal(pyfunc.predict(held_out), model.predict(held_out))


def test_a_column_type_mlflow_lacks_leaves_the_mlmodel_without_signature(tmp_path):
    X = pd.DataFrame({"small": np.arange(20, dtype="int8"), "x": np.linspace(0, 1, 20)})
    model = DecisionTreeClassifier(random_state=0).fit(X, np.arange(20) % 2)
    meta = save_model(model, tmp_path / "pkg", input_example=X.head(3))
    assert meta.signature.inputs.columns[0].dtype == "int8"
    assert "signature" not in yaml.safe_load((tmp_path / "pkg" / "MLmodel").read_text())
    pyfunc = mlflow_quietly().pyfunc.load_model(str(tmp_path / "pkg"))
    np.testing.assert_array_equal(pyfunc.predict(X), model.predict(X))
    with pytest.raises(InvalidInput, match="missing column 'small'"):  # Gannet's check, below
        pyfunc.predict(X.drop(columns=["small"]))


def test_a_package_written_before_mlmodel_existed_still_verifies_and_loads(tmp_path, iris, sdk):
    """An old package (no MLmodel, no requirements.txt) registered and loaded verified."""
    model, held_out = iris
    save_model(model, tmp_path / "new", input_example=held_out.head(3))
    old = tmp_path / "old"
    shutil.copytree(tmp_path / "new", old)
    meta = read_meta(old)
    for name in ("MLmodel", "requirements.txt", "python_env.yaml"):
        (old / name).unlink()
    files = {k: v for k, v in meta.files.items() if k in ("model.skops", "input_example.json")}
    (old / MANIFEST).write_text(replace(meta, files=files).to_yaml())
    np.testing.assert_array_equal(load_model(old).predict(held_out), model.predict(held_out))
    version = sdk.register_model(old, "old-style")
    loaded = sdk.load_model(f"old-style/{version.version}")
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))
