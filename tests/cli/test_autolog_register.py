"""A model autolog logged is registered from the command line, like any logged model."""

import json

import pytest

pytest.importorskip("sklearn")


def test_register_an_autologged_model(sdk, gannet):
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_iris(return_X_y=True, as_frame=True)
    sdk.autolog()
    try:
        sdk.set_experiment("autolog-cli")
        RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    finally:
        sdk.autolog(disable=True)
    (run,) = sdk.search_runs()
    result = gannet("models", "register", f"runs:/{run.info.run_id}/model", "iris-auto")
    assert result.exit_code == 0, result.output
    assert "registered iris-auto version 1" in result.output
    shown = gannet("models", "show", "iris-auto/1", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["flavor"] == "sklearn"
    model = sdk.load_model("iris-auto/1")
    assert list(model.predict(X.head(3))) == [0, 0, 0]
