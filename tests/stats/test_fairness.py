"""Fairness metrics agree with Fairlearn (the reference) on every group and disparity."""

import numpy as np
import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument
from gannet.stats.fairness import fairness_report

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")


def _data(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M", "X"], n, p=[0.48, 0.48, 0.04])
    age = rng.choice(["18-30", "31-50", "51+"], n)
    truth = (rng.random(n) < np.where(sex == "M", 0.6, 0.4)).astype(int)
    pred = np.where(rng.random(n) < 0.8, truth, 1 - truth)
    pred = np.where((sex == "F") & (rng.random(n) < 0.2), 0, pred)  # a built-in bias
    return pd.DataFrame({"sex": sex, "age": age, "y": truth, "p": pred})


def _fairlearn_frame(df: pd.DataFrame, sensitive) -> object:
    from sklearn.metrics import precision_score

    metrics = {
        "selection_rate": fairlearn_metrics.selection_rate,
        "tpr": fairlearn_metrics.true_positive_rate,
        "fpr": fairlearn_metrics.false_positive_rate,
        "precision": lambda t, p: precision_score(t, p, zero_division=np.nan),
        "error_rate": lambda t, p: float(np.mean(t != p)),
    }
    return fairlearn_metrics.MetricFrame(metrics=metrics, y_true=df["y"], y_pred=df["p"],
                                         sensitive_features=df[sensitive])


@pytest.mark.parametrize("sensitive", [["sex"], ["age"], ["sex", "age"]])
def test_groups_and_disparities_match_fairlearn(sensitive):
    df = _data()
    report = fairness_report(df, y_true=df["y"], y_pred=df["p"], sensitive=["sex", "age"],
                             task="classification", min_group_size=0)
    found = report["attributes"]["+".join(sensitive)]
    frame = _fairlearn_frame(df, sensitive)
    by_group = frame.by_group
    assert len(found["groups"]) == len(by_group)
    for group in found["groups"]:
        key = tuple(group["group"].split(" & "))
        expected = by_group.loc[key if len(key) > 1 else key[0]]
        for metric in ("selection_rate", "tpr", "fpr", "precision", "error_rate"):
            assert group[metric] == pytest.approx(expected[metric], abs=1e-12), metric
    features = df[sensitive]
    d = found["disparities"]
    assert d["demographic_parity_difference"] == pytest.approx(
        fairlearn_metrics.demographic_parity_difference(df["y"], df["p"],
                                                        sensitive_features=features))
    assert d["demographic_parity_ratio"] == pytest.approx(
        fairlearn_metrics.demographic_parity_ratio(df["y"], df["p"],
                                                   sensitive_features=features))
    assert d["equalized_odds_difference"] == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(df["y"], df["p"],
                                                    sensitive_features=features))


def test_the_built_in_bias_is_found_and_small_groups_are_set_apart():
    df = _data()
    report = fairness_report(df, y_true=df["y"], y_pred=df["p"], sensitive=["sex"],
                             task="classification", min_group_size=300)
    sex = report["attributes"]["sex"]
    assert sex["small_groups"] == ["X"]  # ~200 rows
    assert [g["group"] for g in sex["groups"] if g["small"]] == ["X"]
    # the disparities leave the small group out; disparities_all keep it
    large = [g for g in sex["groups"] if not g["small"]]
    rates = [g["selection_rate"] for g in large]
    assert sex["disparities"]["demographic_parity_difference"] == pytest.approx(
        max(rates) - min(rates))
    assert sex["disparities"]["equalized_odds_difference"] > 0.15  # F's TPR is cut by 20%
    every = [g["selection_rate"] for g in sex["groups"]]
    assert sex["disparities_all"]["demographic_parity_difference"] == pytest.approx(
        max(every) - min(every))


def test_regression_reports_rmse_and_mae_per_group():
    rng = np.random.default_rng(1)
    group = rng.choice(["a", "b"], 2000)
    truth = rng.normal(0, 1, 2000)
    pred = truth + np.where(group == "a", 0.1, 1.0) * rng.normal(0, 1, 2000)
    df = pd.DataFrame({"g": group})
    report = fairness_report(df, y_true=truth, y_pred=pred, sensitive=["g"], task="regression")
    groups = {g["group"]: g for g in report["attributes"]["g"]["groups"]}
    for name in ("a", "b"):
        mask = group == name
        err = pred[mask] - truth[mask]
        assert groups[name]["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)))
        assert groups[name]["mae"] == pytest.approx(np.mean(np.abs(err)))
    assert report["attributes"]["g"]["disparities"]["rmse_difference"] > 0.5


def test_missing_values_are_a_group_and_a_missing_attribute_is_named():
    df = pd.DataFrame({"sex": ["F", None, "M", "F"], "y": [1, 0, 1, 0], "p": [1, 0, 0, 0]})
    report = fairness_report(df, y_true=df["y"], y_pred=df["p"], sensitive=["sex"],
                             task="classification", min_group_size=0)
    assert {g["group"] for g in report["attributes"]["sex"]["groups"]} == {"F", "M",
                                                                          "(missing)"}
    with pytest.raises(InvalidArgument, match="'race'"):
        fairness_report(df, y_true=df["y"], y_pred=df["p"], sensitive=["sex", "race"],
                        task="classification")
