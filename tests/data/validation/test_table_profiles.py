"""Profiles of tables: the numbers are right, and the JSON document is stable."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from validation_tables import people

import gannet.data
from gannet.core.errors import InvalidArgument
from gannet.stats import profile as profiles
from gannet.stats.profile import Profile


def test_a_profile_has_the_schema_and_each_columns_statistics():
    frame = people(1000, bad=True)
    result = gannet.data.profile(frame)
    assert result.rows == 1000
    assert result.schema == {"id": "int64", "age": "double", "city": "string",
                             "email": "string", "signed_up": "timestamp[us]"}
    age = result.column("age")
    assert (age.kind, age.nulls, age.count) == ("numeric", 1, 999)
    values = frame["age"].dropna()
    assert age.min == values.min() and age.max == 130.0
    assert age.mean == pytest.approx(values.mean())
    assert age.std == pytest.approx(values.std())
    assert age.quantiles["0.5"] == pytest.approx(values.median())
    assert age.histogram is not None
    assert sum(age.histogram.counts) == 999
    assert len(age.histogram.edges) == len(age.histogram.counts) + 1
    assert (age.histogram.edges[0], age.histogram.edges[-1]) == (values.min(), 130.0)
    counts, _ = np.histogram(values, bins=age.histogram.edges)
    assert list(counts) == age.histogram.counts
    city = result.column("city")
    assert city.kind == "categorical" and city.distinct == 3
    expected = frame["city"].value_counts()
    assert {c.value: c.count for c in city.top} == expected.to_dict()
    assert city.top[0].count == expected.max() and city.other_count == 0
    assert result.column("id").distinct == 999  # one id repeats
    assert result.column("signed_up").min == "2024-01-01T00:00:00"
    assert not any(c.approximate for c in result.columns)


def test_the_json_document_reads_back_equal(tmp_path):
    path = tmp_path / "people.parquet"
    people(300).to_parquet(path)
    result = gannet.data.profile(path)
    document = json.loads(json.dumps(result.to_dict()))
    assert document["format"] == "gannet.profile/1"
    assert document["columns"][1]["histogram"]["counts"]
    assert Profile.from_dict(document) == result
    with pytest.raises(InvalidArgument, match="not a profile document"):
        Profile.from_dict({"rows": 1})
    with pytest.raises(InvalidArgument, match="the columns are: id, age"):
        result.column("height")


def test_large_tables_say_their_counts_are_estimates(monkeypatch):
    monkeypatch.setattr(profiles, "EXACT_ROWS", 100)
    result = gannet.data.profile(people(500))
    assert all(c.approximate for c in result.columns if c.distinct is not None)
    assert result.column("id").distinct == pytest.approx(500, rel=0.1)


def test_odd_columns_empty_tables_and_constant_values():
    table = pa.table({
        "flag": [True, False, True, None],
        "same": [2.5, 2.5, 2.5, 2.5],
        "tags": [[1], [2], None, []],
        "wild": [1.0, float("inf"), float("nan"), None],
    })
    result = gannet.data.profile(table)
    flag = result.column("flag")
    assert (flag.kind, flag.nulls, [(c.value, c.count) for c in flag.top]) == (
        "boolean", 1, [(True, 2), (False, 1)])
    same = result.column("same")
    assert same.histogram.counts == [4] and same.std == 0.0
    assert result.column("tags").kind == "other" and result.column("tags").nulls == 1
    assert sum(result.column("wild").histogram.counts) == 1  # NaN and inf are left out
    empty = gannet.data.profile(pd.DataFrame({"a": pd.Series([], dtype="float64")}))
    assert empty.rows == 0 and empty.column("a").histogram is None
