"""Generated credit data with a built-in bias, and models trained on it.

Historical approvals favour ``sex == "M"``; ``zip_code`` is a proxy for sex (the two
groups live in overlapping but shifted zip ranges). A model that reads ``zip_code``
learns the bias (the tests must detect it: a large equalized-odds difference, zip_code at
the top of the importances); a model trained on fair labels without ``zip_code`` is fair.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["income", "tenure", "zip_code"]
FAIR_FEATURES = ["income", "tenure"]


def credit_data(n: int = 3000, *, seed: int = 0, biased: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    age_band = rng.choice(["18-30", "31-50", "51+", "90+"], n, p=[0.3, 0.5, 0.195, 0.005])
    zip_code = np.where(sex == "M", rng.integers(100, 150, n), rng.integers(130, 180, n))
    income = rng.normal(50, 15, n)
    tenure = rng.integers(0, 20, n).astype(float)
    logit = 0.08 * (income - 50) + 0.15 * (tenure - 10)
    if biased:
        logit = logit + np.where(sex == "M", 1.5, -1.5)
    approved = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"income": income, "tenure": tenure, "zip_code": zip_code.astype(float),
                         "sex": sex, "age_band": age_band, "approved": approved})


def save_credit_model(folder: Path, *, biased: bool = True, kind: str = "gbm") -> Path:
    """A fitted model saved as a Gannet package in ``folder/model``; held-out rows (with the
    sensitive attributes and the label) in ``folder/holdout.parquet`` and ``.csv``."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from gannet.models.package import save_model

    train, holdout = credit_data(3000, seed=1, biased=biased), credit_data(4000, seed=2,
                                                                            biased=biased)
    columns = FEATURES if biased else FAIR_FEATURES
    if kind == "gbm":
        model = GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0)
        target = train["approved"]
    elif kind == "logistic":
        model = LogisticRegression(max_iter=500)
        target = train["approved"]
    else:  # labels as words and no predict_proba: nothing SHAP can attribute
        model = LinearSVC()
        target = train["approved"].map({0: "deny", 1: "approve"})
        holdout = holdout.assign(approved=holdout["approved"].map({0: "deny", 1: "approve"}))
    model.fit(train[columns], target)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, folder / "model", input_example=train[columns].head(5))
    holdout.to_parquet(folder / "holdout.parquet", index=False)
    holdout.to_csv(folder / "holdout.csv", index=False)
    return folder / "model"
