"""``gannet.monitor.quality``: nulls, out of range, unseen categories, schema violations;
too few rows are insufficient."""

import numpy as np
import pandas as pd
import pytest

import gannet


def _reference(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.uniform(18, 90, n), "plan": rng.choice(["a", "b"], n),
                         "score": rng.normal(0, 1, n)})


def test_a_clean_window_has_no_issues():
    report = gannet.monitor.quality(_reference(), _reference(seed=1))
    assert report.status == "ok" and report.issues == []
    assert report.metrics()["unseen_share"] == 0.0


def test_nulls_range_unseen_and_schema_are_reported():
    current = _reference(seed=2)
    current.loc[:99, "age"] = np.nan  # 20% nulls
    current.loc[100:149, "score"] = 99.0  # 10% out of range
    current.loc[:24, "plan"] = "c"  # 5% unseen
    current = current.assign(extra=1)
    report = gannet.monitor.quality(_reference(), current)
    assert report.status == "issues"
    columns = report.columns
    assert columns["age"].null_share == 0.2 and "nulls rose" in columns["age"].issues[0]
    assert columns["score"].out_of_range_share == pytest.approx(0.1, abs=0.01)
    assert columns["plan"].unseen_categories == ["c"] and columns["plan"].unseen_share == 0.05
    assert report.new_columns == ["extra"]
    as_text = gannet.monitor.quality(_reference(), current.assign(age="old").drop(
        columns=["plan"]))
    assert as_text.missing_columns == ["plan"]
    assert "type changed from double to" in as_text.columns["age"].issues[0]


def test_all_null_and_tiny_windows():
    current = _reference(seed=3).assign(score=np.nan)
    report = gannet.monitor.quality(_reference(), current)
    assert report.columns["score"].issues == ["every value is null"]
    tiny = gannet.monitor.quality(_reference(), _reference(n=5))
    assert tiny.status == "insufficient" and tiny.rows == 5
