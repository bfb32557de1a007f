"""Each flavor round-trips a real model, and the registry treats third parties like built-ins."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from custom_models import ThresholdModel
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied
from gannet.models import flavors, load_model, save_model


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X.iloc[::2], y.iloc[::2], X.iloc[1::2]


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[::2], y.iloc[::2], X.iloc[1::2]


@pytest.mark.parametrize("dataset", ["cancer", "iris"])  # binary and multiclass
def test_lightgbm_classifier_gives_labels_and_probabilities(tmp_path, dataset, request):
    lightgbm = pytest.importorskip("lightgbm")
    X, y, held_out = request.getfixturevalue(dataset)
    labels = np.array(["a", "b", "c"])[y.to_numpy()]  # string classes, as LGBMClassifier allows
    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1).fit(X, labels)
    meta = save_model(model, tmp_path / "m", input_example=held_out.head(3))
    assert (meta.flavor, meta.serialization) == ("lightgbm", "lightgbm-text")
    assert meta.extra["classes"] == sorted(set(labels))
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))
    np.testing.assert_allclose(loaded.predict_proba(held_out), model.predict_proba(held_out))
    assert loaded.meta.signature.outputs.columns[0].dtype == "string"


def test_lightgbm_regressor(tmp_path):
    lightgbm = pytest.importorskip("lightgbm")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = lightgbm.LGBMRegressor(n_estimators=10, num_leaves=7, verbose=-1).fit(X[:300],
                                                                                    y[:300])
    save_model(model, tmp_path / "m", input_example=X.head(2))
    loaded = load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict(X[300:]), model.predict(X[300:]))
    assert not loaded.has_predict_proba
    with pytest.raises(InvalidArgument, match="no predict_proba"):
        loaded.predict_proba(X[300:])


def test_xgboost_classifier_comes_back_as_a_classifier(tmp_path, cancer):
    xgboost = pytest.importorskip("xgboost")
    X, y, held_out = cancer
    model = xgboost.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1).fit(X, y)
    meta = save_model(model, tmp_path / "m", input_example=held_out.head(3))
    assert (meta.flavor, meta.serialization) == ("xgboost", "xgboost-ubj")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded.raw, xgboost.XGBClassifier)
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))
    np.testing.assert_allclose(loaded.predict_proba(held_out), model.predict_proba(held_out))


def test_xgboost_booster(tmp_path, cancer):
    xgboost = pytest.importorskip("xgboost")
    X, y, held_out = cancer
    booster = xgboost.train({"max_depth": 2, "nthread": 1}, xgboost.DMatrix(X, label=y), 5)
    save_model(booster, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    expected = booster.predict(xgboost.DMatrix(held_out))
    np.testing.assert_allclose(loaded.predict(held_out), expected)


def test_onnx_from_skl2onnx_reads_its_signature_from_the_graph(tmp_path, iris):
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.linear_model import LogisticRegression

    X, y, held_out = iris
    model = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    proto = skl2onnx.to_onnx(model, X.to_numpy()[:1].astype(np.float32),
                             options={"zipmap": False})
    meta = save_model(proto, tmp_path / "m")
    assert (meta.flavor, meta.serialization) == ("onnx", "onnx")
    inputs = meta.signature.inputs
    assert inputs.kind == "tensor" and inputs.columns[0].shape == (-1, 4)
    assert inputs.columns[0].dtype == "float32"
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out.to_numpy()))
    np.testing.assert_allclose(loaded.predict_proba(held_out.to_numpy()),
                               model.predict_proba(held_out.to_numpy()), rtol=1e-4, atol=1e-5)
    with pytest.raises(InvalidArgument, match=r"expected \(-1, 4\)"):
        loaded.predict(np.zeros((2, 3)))
    raw_bytes = save_model(proto.SerializeToString(), tmp_path / "from-bytes")
    assert raw_bytes.flavor == "onnx"


def test_python_class_flavor(tmp_path, cancer):
    _, _, held_out = cancer
    model = ThresholdModel("mean radius", 14.0)
    meta = save_model(model, tmp_path / "m", input_example=held_out.head(3))
    assert (meta.flavor, meta.serialization) == ("python", "python-class")
    assert meta.extra["class"] == "custom_models:ThresholdModel"
    assert "artifacts/threshold.txt" in meta.files
    with pytest.raises(PermissionDenied, match="imports custom_models:ThresholdModel") as caught:
        load_model(tmp_path / "m")  # a folder has no signature: its class runs only if trusted
    assert "trust=True" in caught.value.hint
    loaded = load_model(tmp_path / "m", trust=True)
    np.testing.assert_array_equal(loaded.predict(held_out), model.predict(held_out))
    assert loaded.has_predict_proba


def test_python_class_that_cannot_be_imported_says_what_to_install(tmp_path):
    save_model(ThresholdModel("mean radius", 14.0), tmp_path / "m")
    manifest = tmp_path / "m" / "gannet-model.yaml"
    manifest.write_text(manifest.read_text().replace("custom_models:", "my_pkg.models:"))
    with pytest.raises(InvalidArgument,
                       match="cannot import my_pkg.models.ThresholdModel: install the package"):
        load_model(tmp_path / "m", trust=True)


def test_python_class_defined_in_a_function_is_refused(tmp_path):
    class Local(ThresholdModel):
        pass

    with pytest.raises(InvalidArgument, match="defined in a function"):
        save_model(Local("x", 1.0), tmp_path / "m")


def test_pytorch_module_exported_with_any_batch_size(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1))
    data = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    meta = save_model(model, tmp_path / "m", input_example=data)
    assert meta.serialization == "torch-export"
    assert meta.signature.inputs.columns[0].shape == (-1, 4)
    with pytest.raises(PermissionDenied, match="torch.export.load unpickles"):
        load_model(tmp_path / "m")  # its fallback to weights_only=False runs pickled code
    loaded = load_model(tmp_path / "m", trust=True)
    with torch.no_grad():
        expected = model(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(loaded.predict(data), expected, rtol=1e-6)
    assert loaded.predict(data[:1]).shape == (1, 3)  # the batch dimension stayed free
    with pytest.raises(InvalidArgument, match="needs an example input"):
        save_model(model, tmp_path / "no-example")


class Doubler:
    """A model type of a third-party library, with a flavor of its own."""

    def __init__(self, factor: float = 2.0):
        self.factor = factor


class DoublerFlavor:
    name = "doubler"
    loader = "test_model_flavors:load"
    priority = 5

    def matches(self, model):
        return isinstance(model, Doubler)

    def save(self, model, folder):
        (folder / "factor.txt").write_text(str(model.factor))
        return "text", ["factor.txt"], {}

    def load(self, folder, meta):
        return Doubler(float((Path(folder) / "factor.txt").read_text()))

    def predict(self, raw, data):
        return np.asarray(data) * raw.factor

    def predict_proba(self, raw, data):
        raise NotImplementedError

    def has_predict_proba(self, raw):
        return False

    def signature(self, model):
        return None

    def libraries(self):
        return {}

    def requirements(self):
        return []


@pytest.fixture
def doubler():
    flavor = flavors.register(DoublerFlavor())
    yield flavor
    flavors.unregister("doubler")


def test_a_registered_flavor_is_detected_and_used(tmp_path, doubler):
    assert flavors.detect(Doubler()) is doubler
    meta = save_model(Doubler(3.0), tmp_path / "m", input_example=np.array([[1.0, 2.0]]))
    assert meta.signature.outputs.columns[0].dtype == "float64"
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict([[1.0, 2.0]]), [[3.0, 6.0]])


def test_a_package_of_a_flavor_not_installed_says_so(tmp_path, doubler):
    save_model(Doubler(), tmp_path / "m")
    flavors.unregister("doubler")
    with pytest.raises(NotFound, match="needs the 'doubler' flavor, which is not installed"):
        load_model(tmp_path / "m")
    flavors.register(doubler)


def test_register_refuses_what_is_not_a_flavor():
    with pytest.raises(InvalidArgument, match="lacks part of the Flavor protocol"):
        flavors.register(object())


def test_entry_point_flavors_are_found(tmp_path):
    """A distribution declaring a ``gannet.flavors`` entry point, found in a fresh process."""
    (tmp_path / "gannet_fake_flavor.py").write_text(textwrap.dedent("""
        from gannet.models.flavors.python import PythonFlavor

        class FakeFlavor(PythonFlavor):
            name = "fake"
            loader = "gannet_fake_flavor:load"

        FLAVOR = FakeFlavor()
    """))
    info = tmp_path / "gannet_fake_flavor-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gannet-fake-flavor\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[gannet.flavors]\nfake = gannet_fake_flavor:FLAVOR\n")
    code = "from gannet.models import flavors; print(flavors.get('fake').loader)"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "gannet_fake_flavor:load"


def test_sklearn_wrappers_of_boosting_libraries_get_their_own_flavor():
    lightgbm = pytest.importorskip("lightgbm")
    xgboost = pytest.importorskip("xgboost")
    from sklearn.linear_model import Ridge

    assert flavors.detect(lightgbm.LGBMRegressor()).name == "lightgbm"
    assert flavors.detect(xgboost.XGBRegressor()).name == "xgboost"
    assert flavors.detect(Ridge()).name == "sklearn"
    with pytest.raises(InvalidArgument, match=r"cannot save a pandas.*DataFrame"):
        flavors.detect(pd.DataFrame())
