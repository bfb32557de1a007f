"""The demo's training pipeline: read a dataset version, validate it, fit a model.

The quickstart runs it once to make the first champion; the continuous-training policy
(examples/demo_loop.py) runs it again on each new version of the training data, with the
parameters the policy gives: `data` (`${dataset}`: the version that triggered it), the
`model` recipe the experiments chose, and `exclude` - columns the model must not see.

`biopsy` is such a column: the archive has every case's biopsy result (it is how the label
was made), a screening request cannot (the app sends 0). A model that uses it scores
perfectly on held-out archive rows and collapses on live traffic - the demo's bad model.
"""

from __future__ import annotations

import pandas as pd

import gannet
import gannet.data
from gannet.pipelines import log_metric

LABEL = "malignant"
SUITE = """
checks:
  - {check: row_count, min: 100}
  - {check: schema, columns: {radius: float, texture: float, area: float, malignant: int}}
  - {check: not_null, column: radius}
  - {check: between, column: radius, min: 0, max: 60}
  - {check: between, column: area, min: 0}
  - {check: in_set, column: malignant, values: [0, 1]}
  - {check: in_set, column: biopsy, values: [0, 1]}
"""


@gannet.step
def load(data: str) -> pd.DataFrame:
    return gannet.data.open(data, as_="pandas")


@gannet.step
def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Stop the run on data that breaks the suite (the policy records a failed retrain)."""
    report = gannet.data.validate(frame, SUITE)
    failed = [c.title for c in report.checks if not c.passed]
    if failed:
        raise ValueError(f"the training data fails its checks: {', '.join(failed)}")
    return frame


def make_model(recipe: str, exclude: str):  # noqa: ANN201 - a scikit-learn Pipeline
    """`recipe` (logreg, forest, boosting) after dropping the `exclude` columns (names,
    comma-separated): the model takes every column the service sends and ignores those."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    estimators = {
        "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "forest": lambda: RandomForestClassifier(n_estimators=100, random_state=0),
        "boosting": lambda: GradientBoostingClassifier(n_estimators=100, random_state=0),
    }
    unseen = [name.strip() for name in exclude.split(",") if name.strip()]
    columns = ColumnTransformer([("unseen", "drop", unseen)], remainder="passthrough")
    return make_pipeline(columns, estimators[recipe]())


@gannet.step
def train(frame: pd.DataFrame, model: str, exclude: str):  # noqa: ANN201
    X, y = frame.drop(columns=[LABEL]), frame[LABEL]
    fitted = make_model(model, exclude).fit(X, y)
    log_metric("train_accuracy", float(fitted.score(X, y)))
    log_metric("train_rows", len(frame))
    return fitted


@gannet.pipeline(name="breast-cancer-train")
def train_pipeline(data: str = "breast-cancer-train@1", model: str = "forest",
                   exclude: str = "biopsy") -> None:
    train(validate(load(data)), model, exclude)
