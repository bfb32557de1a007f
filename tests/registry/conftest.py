"""A trained scikit-learn model logged in a run, the starting point of registry tests."""

from dataclasses import dataclass

import pytest


@dataclass
class Trained:
    model: object
    X_test: object
    y_test: object
    run_id: str


def train_and_log(sdk, *, C: float = 1.0, auc: float | None = None, name: str = "model") -> Trained:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    model.fit(X_train, y_train)
    with sdk.start_run(log_environment=False) as run:
        sdk.log_param("C", C)
        score = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
        sdk.log_metric("auc", score if auc is None else auc)
        sdk.log_model(model, name, input_example=X_train.head(5))
    return Trained(model, X_test, y_test, run.run_id)


@pytest.fixture
def trained(sdk) -> Trained:
    return train_and_log(sdk)


@pytest.fixture(name="train_and_log")
def _train_and_log():
    """The training helper itself, for tests that need several runs."""
    return train_and_log
