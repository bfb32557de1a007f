"""Each flavor through the whole path: log in a run, register, alias, load by reference,
predict exactly like the original (SQLite and PostgreSQL)."""

import numpy as np
import pytest


def _lightgbm(X, y):
    lightgbm = pytest.importorskip("lightgbm")
    return lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)


def _xgboost(X, y):
    xgboost = pytest.importorskip("xgboost")
    return xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)


def _onnx(X, y):
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(max_iter=2000).fit(X, y)
    proto = skl2onnx.convert_sklearn(
        fitted,
        initial_types=[("input", FloatTensorType([None, X.shape[1]]))],
        options={id(fitted): {"zipmap": False}},
    )
    return proto, fitted


@pytest.mark.parametrize("make", [_lightgbm, _xgboost, _onnx], ids=["lightgbm", "xgboost", "onnx"])
def test_flavor_round_trip_through_the_registry(sdk, make):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype("float32")
    built = make(X, y)
    model, reference = built if isinstance(built, tuple) else (built, built)
    with sdk.start_run(log_environment=False) as run:
        meta = sdk.log_model(model, input_example=X[:5])
    version = sdk.register_model(run.run_id, "cancer")
    sdk.set_registered_model_alias("cancer", "champion", version.version)
    loaded = sdk.models.load_model("cancer@champion")
    assert loaded.meta.flavor == meta.flavor == version.flavor
    np.testing.assert_array_equal(loaded.predict(X[:50]), reference.predict(X[:50]))
    np.testing.assert_allclose(
        loaded.predict_proba(X[:50]), reference.predict_proba(X[:50]), rtol=1e-4, atol=1e-5
    )


def test_a_pytorch_module_round_trips_through_the_registry(sdk):
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_breast_cancer

    X, _ = load_breast_cancer(return_X_y=True)
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype("float32")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    )
    with sdk.start_run(log_environment=False) as run:
        meta = sdk.log_model(model, input_example=X[:5])
    version = sdk.register_model(run.run_id, "net")
    sdk.set_registered_model_alias("net", "champion", version.version)
    loaded = sdk.models.load_model("net@champion")
    assert meta.flavor == version.flavor == "pytorch"
    with torch.no_grad():
        expected = model(torch.from_numpy(X[:50])).numpy()
    np.testing.assert_allclose(loaded.predict(X[:50]), expected, rtol=1e-5, atol=1e-6)
