"""The trivial retraining pipeline the training tests run: read a dataset version, fit
a scikit-learn model (or a bad or breaking one, by ``quality``)."""

import pandas as pd

import gannet


@gannet.step
def load(data: str) -> pd.DataFrame:
    import gannet.data

    return gannet.data.open(data, as_="pandas")


@gannet.step
def train(frame: pd.DataFrame, label: str, quality: str):
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    if quality == "raising":
        from ct_models import Rule

        return Rule()
    if quality == "failing":
        raise RuntimeError("the training data is unreadable")
    X, y = frame.drop(columns=[label]), frame[label]
    if quality == "bad":
        return DummyClassifier(strategy="constant", constant=0).fit(X, y)
    return LogisticRegression().fit(X, y)


@gannet.pipeline(name="retrain")
def retrain(data: str = "ct-train@1", label: str = "y", quality: str = "good"):
    train(load(data), label, quality)
