"""The model package: save/load round trips (sklearn), integrity, safety and clear errors."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from custom_models import AddConstant
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from gannet.core.digests import digest_bytes
from gannet.core.errors import (
    AlreadyExists,
    IntegrityError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from gannet.models import (
    MANIFEST,
    ColumnSpec,
    ModelMeta,
    NoPredictProba,
    Schema,
    Signature,
    load_model,
    read_meta,
    save_model,
    verify_files,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X.iloc[::2], y.iloc[::2], X.iloc[1::2]


@pytest.fixture(scope="module")
def tree(iris):
    X, y, _ = iris
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)


def test_sklearn_classifier_round_trip(tmp_path, iris, tree):
    _, _, held_out = iris
    meta = save_model(tree, tmp_path / "m", input_example=held_out.head(3), run_id="r1")
    assert meta.flavor == "sklearn" and meta.serialization == "skops" and meta.run_id == "r1"
    assert set(meta.files) == {
        "model.skops", "input_example.json", "MLmodel", "requirements.txt", "python_env.yaml"
    }
    assert meta.libraries["scikit-learn"] and meta.requirements[0].startswith("scikit-learn==")
    assert meta.signature.outputs.columns[0].dtype == "int64"
    assert read_meta(tmp_path / "m") == meta
    model = load_model(tmp_path / "m")
    np.testing.assert_array_equal(model.predict(held_out), tree.predict(held_out))
    np.testing.assert_allclose(model.predict_proba(held_out), tree.predict_proba(held_out))
    assert model.has_predict_proba
    example = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert example["dataframe_split"]["columns"] == list(held_out.columns)


def test_sklearn_regressor_has_no_predict_proba(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    ridge = Ridge().fit(X[:300], y[:300])
    save_model(ridge, tmp_path / "m", input_example=X[:2])
    model = load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(X[300:]), ridge.predict(X[300:]))
    assert model.meta.signature.inputs.kind == "tensor"
    assert not model.has_predict_proba
    with pytest.raises(NoPredictProba, match=r"this model \(flavor sklearn, Ridge\) has no"):
        model.predict_proba(X[300:])
    with pytest.raises(AttributeError):  # so getattr-with-default style code works too
        model.predict_proba(X[300:])


def _customers():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :4].copy()
    X["plan"] = np.where(y.to_numpy() % 3 == 0, "pro", "basic")
    return X, y


def test_pipeline_with_column_transformer_on_a_dataframe(tmp_path):
    X, y = _customers()
    numeric = list(X.columns[:4])
    pipeline = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), numeric),
                           ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])]),
        LogisticRegression(max_iter=500),
    ).fit(X.iloc[::2], y.iloc[::2])
    held_out = X.iloc[1::2]
    meta = save_model(pipeline, tmp_path / "m", input_example=held_out.head(5))
    assert meta.serialization == "skops"
    assert meta.signature.inputs.columns[-1] == ColumnSpec("plan", "string")
    model = load_model(tmp_path / "m")
    np.testing.assert_array_equal(model.predict(held_out), pipeline.predict(held_out))
    records = held_out[["plan", *numeric]].to_dict("records")  # other order, as JSON would be
    np.testing.assert_allclose(model.predict_proba(records), pipeline.predict_proba(held_out))


def test_custom_transformer_falls_back_to_pickle_that_loads_only_when_allowed(tmp_path, iris):
    X, y, held_out = iris
    pipeline = make_pipeline(AddConstant(2.0), LogisticRegression(max_iter=500)).fit(X, y)
    meta = save_model(pipeline, tmp_path / "m", input_example=held_out.head(2))
    assert meta.serialization == "pickle" and set(meta.files) >= {"model.pkl"}
    assert "custom_models.AddConstant" in meta.extra["pickle_reason"]
    with pytest.raises(PermissionDenied) as caught:
        load_model(tmp_path / "m")
    assert "runs arbitrary code" in str(caught.value) and "trust=True" in str(caught.value)
    model = load_model(tmp_path / "m", trust=True)
    np.testing.assert_array_equal(model.predict(held_out), pipeline.predict(held_out))


def _replace_file(package, name, data):
    """Swap a file and re-digest it in the manifest, as a careful attacker would."""
    (package / name).write_bytes(data)
    meta = read_meta(package)
    files = {**meta.files, name: digest_bytes(data)}
    (package / MANIFEST).write_text(replace(meta, files=files).to_yaml())


def test_skops_file_with_types_outside_sklearn_is_refused(tmp_path, iris, tree):
    import skops.io as sio

    X, y, _ = iris
    save_model(tree, tmp_path / "m")
    custom = make_pipeline(AddConstant(2.0), LogisticRegression(max_iter=500)).fit(X, y)
    _replace_file(tmp_path / "m", "model.skops", sio.dumps(custom))
    with pytest.raises(IntegrityError, match="outside scikit-learn, numpy and scipy"):
        load_model(tmp_path / "m")


def test_trusted_types_listed_in_the_manifest_are_checked_too(tmp_path, tree):
    save_model(tree, tmp_path / "m")
    manifest = tmp_path / "m" / MANIFEST
    meta = read_meta(tmp_path / "m")
    trusted = [*meta.extra["skops_trusted"], "os.system", "builtins.eval"]
    manifest.write_text(replace(meta, extra={**meta.extra, "skops_trusted": trusted}).to_yaml())
    with pytest.raises(IntegrityError, match="outside scikit-learn") as caught:
        load_model(tmp_path / "m")
    assert "os.system" in str(caught.value) and "builtins.eval" in str(caught.value)


def test_a_listed_type_never_imports_a_script_module_of_a_trusted_library(tmp_path, tree):
    """Checking a listed type imports its module; ``numpy.f2py.__main__`` would run f2py
    (and exit the process) on import, so a dunder module is refused before importing."""
    save_model(tree, tmp_path / "m")
    manifest = tmp_path / "m" / MANIFEST
    meta = read_meta(tmp_path / "m")
    trusted = [*meta.extra["skops_trusted"], "numpy.f2py.__main__.main"]
    manifest.write_text(replace(meta, extra={**meta.extra, "skops_trusted": trusted}).to_yaml())
    with pytest.raises(IntegrityError, match=r"numpy\.f2py\.__main__\.main"):
        load_model(tmp_path / "m")
    assert "numpy.f2py.__main__" not in sys.modules


def test_unserialisable_model_names_the_cause(tmp_path, iris):
    from sklearn.preprocessing import FunctionTransformer

    X, y, _ = iris
    pipeline = make_pipeline(FunctionTransformer(lambda x: x), LogisticRegression(max_iter=500))
    with pytest.raises(InvalidArgument, match="pickle failed too") as caught:
        save_model(pipeline.fit(X, y), tmp_path / "m")
    assert "lambda" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_changed_byte_is_named(tmp_path, tree):
    meta = save_model(tree, tmp_path / "m")
    path = tmp_path / "m" / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"model.skops has changed"):
        verify_files(tmp_path / "m", meta)
    with pytest.raises(IntegrityError, match=r"model.skops has changed"):
        load_model(tmp_path / "m")


def test_extra_and_missing_files_are_named(tmp_path, tree):
    meta = save_model(tree, tmp_path / "m", input_example=pd.DataFrame(
        [[5.0, 3.0, 1.5, 0.2]], columns=["sepal length (cm)", "sepal width (cm)",
                                         "petal length (cm)", "petal width (cm)"]))
    (tmp_path / "m" / "sub").mkdir()
    (tmp_path / "m" / "sub" / "evil.py").write_text("print('hi')")
    (tmp_path / "m" / "input_example.json").unlink()
    with pytest.raises(IntegrityError) as caught:
        verify_files(tmp_path / "m", meta)
    message = str(caught.value)
    assert "sub/evil.py is not listed in the manifest" in message
    assert "input_example.json is missing" in message


@pytest.mark.parametrize("path", ["../evil", "/etc/passwd", "a/../../b", "a\\b", "C:/x", ""])
def test_manifest_paths_outside_the_package_are_refused(tmp_path, tree, path):
    save_model(tree, tmp_path / "m")
    manifest = tmp_path / "m" / MANIFEST
    text = manifest.read_text().replace("model.skops:", f"{json.dumps(path)}:")
    manifest.write_text(text)
    with pytest.raises(IntegrityError, match="unsafe path"):
        read_meta(tmp_path / "m")


def test_unknown_format_version_is_refused(tmp_path, tree):
    save_model(tree, tmp_path / "m")
    manifest = tmp_path / "m" / MANIFEST
    manifest.write_text(manifest.read_text().replace("format: 1", "format: 7"))
    with pytest.raises(InvalidArgument, match="format version 7; this Gannet reads version 1"):
        load_model(tmp_path / "m")


def test_unknown_model_type_lists_the_flavors_and_the_way_out(tmp_path):
    with pytest.raises(InvalidArgument) as caught:
        save_model(object(), tmp_path / "m")
    message = str(caught.value)
    assert "builtins.object" in message
    for flavor in ("sklearn", "xgboost", "lightgbm", "onnx", "pytorch", "python"):
        assert flavor in message
    assert "predict(self, data)" in message and "load(cls, path)" in message
    assert not (tmp_path / "m").exists()


def test_signature_that_does_not_match_the_example(tmp_path, tree, iris):
    _, _, held_out = iris
    wrong = Signature(Schema((ColumnSpec("sepal length (cm)", "float64"),), "dataframe"))
    with pytest.raises(InvalidArgument) as caught:
        save_model(tree, tmp_path / "m", signature=wrong, input_example=held_out.head(2))
    assert "signature does not match the input example" in str(caught.value)
    assert "unexpected columns 'sepal width (cm)'" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


def test_given_signature_is_enforced_on_predict(tmp_path, tree, iris):
    _, _, held_out = iris
    save_model(tree, tmp_path / "m", input_example=held_out.head(2))
    model = load_model(tmp_path / "m")
    with pytest.raises(InvalidArgument, match="missing column 'petal width"):
        model.predict(held_out.drop(columns=["petal width (cm)"]))


def test_destination_must_be_new_or_empty(tmp_path, tree):
    (tmp_path / "empty").mkdir()
    save_model(tree, tmp_path / "empty")
    with pytest.raises(AlreadyExists, match="already exists"):
        save_model(tree, tmp_path / "empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_not_a_package_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="not a Gannet model package"):
        load_model(tmp_path)


def test_load_by_reference_takes_a_package_folder(tmp_path, tree, iris):
    import gannet.models

    _, _, held_out = iris
    save_model(tree, tmp_path / "m")
    model = gannet.models.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(model.predict(held_out), tree.predict(held_out))


def test_load_by_reference_asks_the_installed_resolvers(tmp_path):
    (tmp_path / "fake_resolver.py").write_text(
        "from gannet.core.errors import NotFound\n"
        "def resolve(ref, **options):\n"
        "    if ref != 'churn@champion':\n"
        "        raise NotFound(f'no model {ref}')\n"
        "    return ('resolved', ref, options)\n"
    )
    info = tmp_path / "fake_resolver-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-resolver\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[gannet.model_resolvers]\nfake = fake_resolver:resolve\n")
    code = (
        "import gannet.models\n"
        "print(gannet.models.load_model('churn@champion', allow_unsigned=True))\n"
        "try:\n    gannet.models.load_model('nope@x')\nexcept gannet.models.NotFound as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "GANNET_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    lines = done.stdout.splitlines()
    assert lines[0] == "('resolved', 'churn@champion', {'allow_unsigned': True})"
    assert "nope" in lines[1]  # the NotFound of the last resolver asked


def test_meta_yaml_round_trip(tmp_path, tree):
    meta = save_model(tree, tmp_path / "m", requirements=["extra-lib>=1"])
    assert "extra-lib>=1" in meta.requirements
    assert ModelMeta.from_yaml(meta.to_yaml()) == meta


def test_import_gannet_models_is_light():
    code = (
        "import sys, gannet.models\n"
        "from gannet.models import flavors\n"
        "assert len(flavors.names()) == 6\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'numpy', 'onnx', 'onnxruntime', 'lightgbm',"
        " 'xgboost', 'skops', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
