"""Explainers: SHAP contributions add up to the model's output, permutation importance is
scikit-learn's, and a model SHAP cannot explain is refused naming the fallback."""

import numpy as np
import pandas as pd
import pytest

from gannet.core.errors import NotSupported
from gannet.models import explainers

pytest.importorskip("shap")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600),
                      "noise": rng.normal(size=600)})
    y = (X["a"] + 0.5 * X["b"] + 0.1 * rng.normal(size=600) > 0).astype(int)
    return X, y


def test_tree_contributions_add_up_to_the_margin(data):
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = data
    model = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(X, y)
    explained = explainers.local_explainer(model).explain(X.iloc[:20])
    assert explained.method == "tree"
    margin = model.decision_function(X.iloc[:20])
    np.testing.assert_allclose(explained.values.sum(axis=1) + explained.base_value, margin,
                               atol=1e-6)
    summary = explainers.summarise(explainers.local_explainer(model).explain(X))
    assert [f["feature"] for f in summary["features"]][:2] == ["a", "b"]
    assert summary["features"][-1]["feature"] == "noise"


@pytest.mark.slow  # shap compiles its sampling code (numba) on first use: seconds
def test_a_regressor_by_sampling_adds_up_to_its_prediction(data):
    from sklearn.neighbors import KNeighborsRegressor

    X, _ = data
    target = 2 * X["a"] - X["b"]
    model = KNeighborsRegressor().fit(X, target)
    background = X.sample(50, random_state=0)
    explainer = explainers.local_explainer(model, background)
    assert explainer.method == "sampled"
    explained = explainer.explain(X.iloc[:5])
    total = explained.values.sum(axis=1) + explained.base_value
    np.testing.assert_allclose(total, model.predict(X.iloc[:5]), atol=1e-6)


@pytest.mark.slow
def test_a_sampled_explainer_stops_when_its_budget_is_spent(data):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data
    model = KNeighborsClassifier().fit(X, y)
    explainer = explainers.local_explainer(model, X.sample(100, random_state=0))
    with pytest.raises(TimeoutError, match="rows in"):
        explainer.explain(X.iloc[:200], budget_s=0.0001)


def test_permutation_importance_is_scikit_learns(data):
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression

    X, y = data
    model = LogisticRegression().fit(X, y)
    summary = explainers.permutation_summary(model, X, y, n_repeats=3)
    direct = permutation_importance(model, X, y, n_repeats=3, random_state=0)
    got = {f["feature"]: f["importance_mean"] for f in summary["features"]}
    assert got == pytest.approx(dict(zip(X.columns, direct.importances_mean, strict=True)))
    assert summary["features"][0]["feature"] == "a"
    assert summary["scoring"] == "accuracy"


def test_a_model_shap_cannot_explain_names_the_fallback(data):
    from sklearn.svm import LinearSVC

    X, y = data
    model = LinearSVC().fit(X, y.map({0: "no", 1: "yes"}))
    with pytest.raises(NotSupported, match="permutation importance") as caught:
        explainers.local_explainer(model, X.iloc[:50])
    assert "LinearSVC" in caught.value.message
    with pytest.raises(NotSupported, match="background sample"):
        explainers.local_explainer(model)  # not a tree, and nothing to sample from


def test_a_multiclass_forest_explains_each_row_s_predicted_class():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    rows = X.iloc[[0, 60, 120]]  # one of each class
    explained = explainers.local_explainer(model).explain(rows)
    proba = model.predict_proba(rows)
    chosen = proba.argmax(axis=1)
    assert list(chosen) == [0, 1, 2]
    np.testing.assert_allclose(explained.values.sum(axis=1) + explained.base_values,
                               proba[np.arange(3), chosen], atol=1e-6)
    assert "the predicted class" in explained.output
