"""scikit-learn autologging: params, training score and fit time without a line of logging."""

import pytest

sklearn = pytest.importorskip("sklearn")


@pytest.fixture
def autolog(sdk):
    sdk.autolog()
    yield sdk
    sdk.autolog(disable=True)


def test_fit_outside_a_run_gets_its_own_run(autolog):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    autolog.set_experiment("auto")
    LogisticRegression(C=0.5, max_iter=500).fit(X, y)
    (run,) = autolog.search_runs()
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "LogisticRegression"
    assert run.data.params["C"] == "0.5"
    assert run.data.params["max_iter"] == "500"
    assert 0.9 < run.data.metrics["training_score"] <= 1.0
    assert run.data.metrics["fit_time_s"] > 0
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"


def test_fit_inside_a_run_logs_there_and_inner_fits_stay_quiet(autolog):
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    autolog.set_experiment("auto2")
    with autolog.start_run(log_environment=False) as run:
        make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)).fit(
            X, y
        )
    runs = autolog.search_runs()
    assert [r.run_id for r in runs] == [run.run_id]
    data = runs[0].data
    assert data.tags["estimator_name"] == "Pipeline"
    assert data.params["randomforestclassifier__n_estimators"] == "5"
    assert data.metrics["training_score"] > 0.9


def test_inherited_fit_is_logged_too(autolog):
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier  # fit comes from BaseForest

    X, y = load_iris(return_X_y=True)
    autolog.set_experiment("auto-inherited")
    RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    (run,) = autolog.search_runs()
    assert run.info.run_name == "RandomForestClassifier"
    assert run.data.params["n_estimators"] == "3"


def test_disable_restores_plain_fit(autolog):
    from sklearn.linear_model import LinearRegression

    autolog.autolog(disable=True)
    autolog.set_experiment("auto3")
    LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    assert autolog.search_runs() == []
