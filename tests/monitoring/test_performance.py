"""Live performance metrics agree with scikit-learn's on known data."""

import numpy as np
import pytest
from sklearn import metrics

from gannet.stats.performance import classification, regression, task_of


def test_binary_classification_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p1 = np.clip(y * 0.6 + rng.uniform(0, 0.5, 500), 0, 1)
    predicted = (p1 > 0.5).astype(int)
    found = classification(y, predicted, np.column_stack([1 - p1, p1]))
    assert found == pytest.approx({
        "accuracy": metrics.accuracy_score(y, predicted),
        "precision": metrics.precision_score(y, predicted),
        "recall": metrics.recall_score(y, predicted),
        "f1": metrics.f1_score(y, predicted),
        "roc_auc": metrics.roc_auc_score(y, p1),
        "log_loss": metrics.log_loss(y, np.column_stack([1 - p1, p1])),
    })


def test_multiclass_text_labels_and_regression():
    rng = np.random.default_rng(1)
    y = rng.choice(["a", "b", "c"], 300)
    predicted = np.where(rng.uniform(size=300) < 0.7, y, "a")
    found = classification(y, predicted)
    assert found["accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted))
    assert found["f1"] == pytest.approx(metrics.f1_score(y, predicted, average="macro"))
    assert found["precision"] == pytest.approx(
        metrics.precision_score(y, predicted, average="macro"))
    truth, guess = rng.normal(0, 1, 200), rng.normal(0, 1, 200)
    assert task_of(truth) == "regression" and task_of(y) == "classification"
    assert regression(truth, guess) == pytest.approx({
        "rmse": np.sqrt(metrics.mean_squared_error(truth, guess)),
        "mae": metrics.mean_absolute_error(truth, guess)})
