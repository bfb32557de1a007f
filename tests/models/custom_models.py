"""Model classes from "user code" for the tests: importable by module name, not in sklearn."""

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class AddConstant(TransformerMixin, BaseEstimator):
    """A custom transformer: skops cannot vouch for it, so its pipeline falls back to pickle."""

    def __init__(self, constant=1.0):
        self.constant = constant

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) + self.constant


class ThresholdModel:
    """A plain Python model with save/load: the 'python' flavor's way out."""

    def __init__(self, column: str, threshold: float):
        self.column = column
        self.threshold = threshold

    def predict(self, data):
        return (data[self.column].to_numpy() > self.threshold).astype("int64")

    def predict_proba(self, data):
        above = self.predict(data).astype(float)
        return np.column_stack([1 - above, above])

    def save(self, path: Path) -> None:
        (Path(path) / "threshold.txt").write_text(f"{self.column}\n{self.threshold!r}\n")

    @classmethod
    def load(cls, path: Path) -> "ThresholdModel":
        column, threshold = (Path(path) / "threshold.txt").read_text().splitlines()
        return cls(column, float(threshold))
