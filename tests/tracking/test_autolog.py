"""scikit-learn autologging: params, training metrics, model and plots, following MLflow's
rules for when a fit logs and when it starts a run."""

import json
import subprocess
import sys
import textwrap
import warnings

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
    assert run.data.tags["gannet.autolog"] == "sklearn"
    assert run.data.params["C"] == "0.5"
    assert run.data.params["max_iter"] == "500"
    assert 0.9 < run.data.metrics["training_score"] <= 1.0
    assert run.data.metrics["training_accuracy_score"] == run.data.metrics["training_score"]
    for name in ("f1_score", "precision_score", "recall_score", "log_loss", "roc_auc"):
        assert f"training_{name}" in run.data.metrics
    assert run.data.metrics["fit_time_s"] > 0
    assert run.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"


def test_regressor_gets_regression_metrics(autolog):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    autolog.set_experiment("auto-regression")
    Ridge().fit(X, y)
    (run,) = autolog.search_runs()
    metrics = run.data.metrics
    assert metrics["training_root_mean_squared_error"] == pytest.approx(
        metrics["training_mean_squared_error"] ** 0.5
    )
    assert metrics["training_r2_score"] == pytest.approx(metrics["training_score"])
    assert "training_accuracy_score" not in metrics


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


def test_a_grid_search_is_one_run_with_the_best_params(autolog):
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    autolog.set_experiment("auto-search")
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]}, cv=3)
    search.fit(X, y)
    (run,) = autolog.search_runs()  # the 6 candidate fits and the refit are part of it
    assert run.data.params["best_max_depth"] == str(search.best_params_["max_depth"])
    assert run.data.params["estimator__random_state"] == "0"


def test_inherited_fit_is_logged_too(autolog):
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier  # fit comes from BaseForest

    X, y = load_iris(return_X_y=True)
    autolog.set_experiment("auto-inherited")
    RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    (run,) = autolog.search_runs()
    assert run.info.run_name == "RandomForestClassifier"
    assert run.data.params["n_estimators"] == "3"


def test_preprocessing_outside_a_run_creates_no_run(autolog):
    from sklearn.datasets import load_iris
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import LabelEncoder, StandardScaler

    X, y = load_iris(return_X_y=True)
    autolog.set_experiment("auto-prep")
    StandardScaler().fit_transform(X)
    StandardScaler().fit(X)
    SimpleImputer().fit(X)
    LabelEncoder().fit(y)
    PCA(n_components=2).fit_transform(X)  # learns, but predicts nothing: no run of its own
    assert autolog.search_runs() == []


def test_in_a_run_a_transformer_logs_but_a_preparation_step_does_not(autolog):
    from sklearn.datasets import load_iris
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    X, _ = load_iris(return_X_y=True)
    autolog.set_experiment("auto-prep-in-run")
    with autolog.start_run(log_environment=False) as run:
        StandardScaler(with_mean=False).fit(X)
        PCA(n_components=2).fit_transform(X)
    data = autolog.get_run(run.run_id).data
    assert data.params["n_components"] == "2"
    assert "with_mean" not in data.params  # MLflow's rule: data preparation is not a model
    assert "model" not in [f.path for f in autolog.list_artifacts(run.run_id)]


def test_the_model_is_logged_with_signature_and_example(autolog):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    autolog.set_experiment("auto-model")
    model = LogisticRegression(max_iter=500).fit(X, y)
    (run,) = autolog.search_runs()
    artifacts = {f.path for f in autolog.list_artifacts(run.run_id)}
    assert {"model", "training_confusion_matrix.png"} <= artifacts
    png = autolog.get_client().read_artifact(run.run_id, "training_confusion_matrix.png")
    assert png.startswith(b"\x89PNG")
    assert run.data.tags["gannet.model.model"] == "sklearn"
    folder = autolog.download_artifacts(run.run_id, "model")
    loaded = autolog.models.load_model(folder, trust=True)
    assert loaded.meta.signature.inputs.names == list(X.columns)
    example = json.loads((folder / "input_example.json").read_text())["dataframe_split"]
    assert example["columns"] == list(X.columns)
    assert example["data"] == X.head(5).to_numpy().tolist()
    assert (loaded.predict(X.head(20)) == model.predict(X.head(20))).all()


def test_feature_importance_plot_for_a_forest(autolog):
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor

    X, y = load_diabetes(return_X_y=True)
    autolog.set_experiment("auto-importance")
    RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    (run,) = autolog.search_runs()
    png = autolog.get_client().read_artifact(run.run_id, "feature_importance.png")
    assert png.startswith(b"\x89PNG")


class _PredictsNothing(sklearn.linear_model.LogisticRegression):
    def predict(self, X):
        raise RuntimeError("this model cannot predict today")


def test_an_error_while_logging_warns_and_the_fit_goes_on(autolog):
    from sklearn.datasets import load_iris

    from gannet.tracking.autolog import AutologWarning

    X, y = load_iris(return_X_y=True)
    autolog.set_experiment("auto-broken")
    with pytest.warns(AutologWarning, match="cannot predict today") as caught:
        model = _PredictsNothing(max_iter=500).fit(X, y)
    said = [str(w.message) for w in caught]
    assert any(m.startswith("gannet autolog could not log the model") for m in said), said
    assert hasattr(model, "coef_")  # fitted
    (run,) = autolog.search_runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["max_iter"] == "500"


def test_a_failing_fit_fails_its_run_and_raises(autolog):
    from sklearn.linear_model import LogisticRegression

    autolog.set_experiment("auto-fails")
    with pytest.raises(ValueError, match="y"):
        LogisticRegression().fit([[0.0], [1.0]], [1, 1])  # one class only
    (run,) = autolog.search_runs()
    assert run.info.status == "FAILED"
    assert "ValueError" in run.data.tags["gannet.error"]


def test_disable_restores_every_original(sdk):
    from sklearn.base import TransformerMixin
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.ensemble._forest import BaseForest
    from sklearn.linear_model import LinearRegression, LogisticRegression

    before = {
        "LogisticRegression.fit": vars(LogisticRegression)["fit"],
        "BaseForest.fit": vars(BaseForest)["fit"],
        "PCA.fit_transform": vars(PCA)["fit_transform"],
        "TransformerMixin.fit_transform": vars(TransformerMixin)["fit_transform"],
    }
    sdk.autolog()
    assert LogisticRegression.fit is not before["LogisticRegression.fit"]
    assert "fit" in vars(RandomForestClassifier)  # patched on the class itself
    sdk.autolog(disable=True)
    assert vars(LogisticRegression)["fit"] is before["LogisticRegression.fit"]
    assert vars(PCA)["fit_transform"] is before["PCA.fit_transform"]
    assert vars(TransformerMixin)["fit_transform"] is before["TransformerMixin.fit_transform"]
    assert "fit" not in vars(RandomForestClassifier)
    assert RandomForestClassifier.fit is before["BaseForest.fit"]
    sdk.set_experiment("auto3")
    LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    assert sdk.search_runs() == []


def test_autolog_twice_patches_once(autolog):
    from sklearn.linear_model import LinearRegression

    autolog.autolog()
    autolog.set_experiment("auto-twice")
    LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    (run,) = autolog.search_runs()
    assert run.data.params["fit_intercept"] == "True"


def test_a_library_imported_after_autolog_is_patched_then(tmp_path):
    """autolog() imports no library itself: each is patched when the program imports it."""
    script = textwrap.dedent(f"""
        import sys
        import gannet
        gannet.configure(home={str(tmp_path)!r})
        gannet.autolog()
        assert "sklearn" not in sys.modules
        from sklearn.linear_model import LinearRegression
        LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
        (run,) = gannet.search_runs()
        print(run.info.run_name, run.data.tags["gannet.autolog"])
    """)
    with warnings.catch_warnings():
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
            env={"GANNET_CAPTURE_ENVIRONMENT": "false", "PATH": "/usr/bin:/bin"},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LinearRegression", "sklearn"]
