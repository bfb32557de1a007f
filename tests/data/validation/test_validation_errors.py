"""Suites and tables that cannot be right are refused with errors that say what to do."""

import pytest
from validation_tables import people

import gannet.data
from gannet.core.errors import InvalidArgument, NotFound


@pytest.mark.parametrize(
    ("suite", "message", "hint"),
    [
        ([{"check": "not_nul", "column": "age"}], "unknown check 'not_nul' (check 1 of",
         "did you mean 'not_null'?"),
        ([{"check": "not_null", "column": "agee"}], "no column 'agee' in <pandas.DataFrame>",
         "the columns are: id, age, city, email, signed_up"),
        ([{"check": "between", "column": "age", "min": 0, "max": [1]}],
         "'max' must be a number or a text, got [1]", "between"),
        ([{"check": "between", "column": "age", "min": "zero"}],
         "min 'zero' is a text but 'age' is double", "number without quotes"),
        ([{"check": "row_count", "min": "1000"}],
         "'min' must be a whole number, got '1000'", "without quotes"),
        ([{"check": "between", "column": "age"}], "needs min, max or both", "min: 0"),
        ([{"check": "unique"}], "check unique (check 1 of the suite) needs 'column'",
         "it takes: column"),
        ([{"check": "unique", "column": "id", "colour": "red"}], "does not take 'colour'",
         "it takes: column"),
        ([{"check": "regex", "column": "email", "pattern": "("}], "is not a regular expression",
         "write a pattern"),
        ([{"check": "freshness", "column": "age", "max_age": "1d"}],
         "needs a timestamp or date column; 'age' is double", "column of times"),
        ([{"check": "freshness", "column": "signed_up", "max_age": "soon"}],
         "cannot read 'soon' as a duration", "30s"),
        ([{"check": "sql", "query": "SELECT * FROM nowhere"}], "the query of check sql failed",
         "DuckDB SELECT"),
        (["not_null"], "check 1 of the suite is not a check", "{check: NAME"),
        ("checks: [", "the suite is not valid YAML", "fix the YAML"),
        ("checks: []", "the suite has no checks", "add at least one"),
        ("tests: []", "the suite has tests", "checks:"),
        ({"expectations": [{"type": "expect_column_kl_divergence_to_be_less_than",
                            "kwargs": {"column": "age"}}]},
         "has no Gannet equivalent", "expect_column_values_to_not_be_null"),
        ({"expectations": [{"type": "expect_column_values_to_not_be_null",
                            "kwargs": {"column": "age", "mostly": 0.9}}]},
         "mostly=0.9 is not supported", "drop 'mostly'"),
    ],
)
def test_a_suite_that_cannot_be_right_is_refused(suite, message, hint):
    with pytest.raises(InvalidArgument) as caught:
        gannet.data.validate(people(50), suite)
    assert message in caught.value.message
    assert hint in caught.value.hint


def test_check_objects_are_held_to_the_same_rules():
    from gannet.data.validation.checks import Between, NotNull

    with pytest.raises(InvalidArgument, match="needs min, max or both"):
        gannet.data.validate(people(10), [Between(column="age")])
    with pytest.raises(InvalidArgument, match="'column' must be a text, got 5"):
        gannet.data.validate(people(10), [NotNull(column=5)])


def test_null_arguments_count_as_unset():
    report = gannet.data.validate(people(10), "checks: [{check: between, column: age, "
                                              "min: 0, max: null}]")
    assert report.passed and report.checks[0].spec == {"check": "between", "column": "age",
                                                       "min": 0}
    with pytest.raises(InvalidArgument, match="needs 'column'"):
        gannet.data.validate(people(10), [{"check": "not_null", "column": None}])


def test_a_csv_that_does_not_parse_is_refused(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("id,name\n1,a\n2,b,c\n")
    with pytest.raises(InvalidArgument) as caught:
        gannet.data.validate(path, [{"check": "row_count", "min": 1}])
    assert f"{path} cannot be read as CSV" in caught.value.message
    assert "Expected 2 columns, got 3" in caught.value.message
    assert "well-formed CSV" in caught.value.hint


def test_missing_and_unknown_paths_are_refused(tmp_path):
    with pytest.raises(NotFound, match="no file or folder at"):
        gannet.data.profile(tmp_path / "nothing.parquet")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidArgument, match="cannot tell the format"):
        gannet.data.profile(tmp_path / "notes.txt")
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(InvalidArgument, match="cannot be read as Parquet"):
        gannet.data.profile(tmp_path / "fake.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgument, match="holds no Parquet files"):
        gannet.data.profile(tmp_path / "empty")
    with pytest.raises(NotFound, match="no suite file at"):
        gannet.data.validate(people(10), tmp_path / "missing.yaml")
    with pytest.raises(InvalidArgument, match="cannot read a table from a builtins.dict"):
        gannet.data.profile({"a": [1]})
