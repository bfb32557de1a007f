"""Suites run over tables from Python: verdicts, observed values, offending rows."""

import datetime as dt
import json

import pyarrow as pa
import pytest
from validation_tables import SUITE, people

import gannet.data
from gannet.data.validation import load_suite
from gannet.data.validation.checks import Between, NotNull, RowCount


def test_the_issue_suite_passes_on_good_data_as_written(good_parquet):
    report = gannet.data.validate(good_parquet, SUITE)
    assert report.passed
    assert [c.title for c in report.checks] == [
        "not_null(age)", "between(age)", "unique(id)", "row_count"]
    assert report.rows == 2000
    assert report.checks[3].observed == {"rows": 2000}


def test_bad_data_fails_each_check_with_its_offending_rows(bad_parquet):
    report = gannet.data.validate(bad_parquet, SUITE)
    assert not report.passed
    by = {c.title: c for c in report.checks}
    assert by["not_null(age)"].observed == {"nulls": 1}
    assert [r["id"] for r in by["not_null(age)"].failing_rows] == [3]
    assert by["between(age)"].observed["outside"] == 1
    assert by["between(age)"].observed["max"] == 130.0
    assert by["between(age)"].failing_rows[0]["age"] == 130.0
    assert by["unique(id)"].observed == {"duplicates": 1}
    assert sorted(r["id"] for r in by["unique(id)"].failing_rows) == [10, 10]
    assert by["row_count"].passed
    assert "FAILED (3 of 4 checks)" in report.summary()


def test_every_kind_of_check_in_one_suite():
    frame = people(500)
    frame.loc[0, "email"] = "not-an-address"
    frame.loc[1, "city"] = "Paris"
    report = gannet.data.validate(frame, [
        {"check": "in_set", "column": "city", "values": ["Lyon", "Oslo", "Porto"]},
        {"check": "regex", "column": "email", "pattern": r"^[\w.]+@[\w.]+$"},
        {"check": "freshness", "column": "signed_up", "max_age": "1d"},
        {"check": "schema", "columns": {"id": "int", "age": "float", "city": "string",
                                        "signed_up": "timestamp"}},
        {"check": "schema", "columns": ["id", "age"], "exact": True},
        {"check": "sql", "query": "SELECT * FROM data WHERE age > 90 AND city = 'Oslo'",
         "description": "old in Oslo", "max_rows": 1000},
        {"check": "sql", "query": "SELECT id FROM data WHERE id < 0"},
        {"check": "between", "column": "signed_up", "min": "2023-12-31"},
    ])
    assert [(c.title, c.passed) for c in report.checks] == [
        ("in_set(city)", False), ("regex(email)", False), ("freshness(signed_up)", False),
        ("schema", True), ("schema", False), ("sql(old in Oslo)", True), ("sql", True),
        ("between(signed_up)", True),
    ]
    schemas = [c for c in report.checks if c.check == "schema"]
    assert schemas[1].observed["unexpected"] == ["city", "email", "signed_up"]
    by = {c.title: c for c in report.checks}
    assert by["in_set(city)"].failing_rows[0]["city"] == "Paris"
    assert by["regex(email)"].failing_rows[0]["email"] == "not-an-address"
    assert by["freshness(signed_up)"].observed["latest"].startswith("2024-01-21")


def test_fresh_data_passes_freshness_and_nulls_are_ignored_by_value_checks():
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    table = pa.table({"at": pa.array([now - dt.timedelta(hours=2), None]),
                      "code": pa.array(["A1", None])})
    report = gannet.data.validate(table, [
        {"check": "freshness", "column": "at", "max_age": "3h"},
        {"check": "regex", "column": "code", "pattern": "^A[0-9]$"},
        {"check": "unique", "column": "code"},
        {"check": "in_set", "column": "code", "values": ["A1"]},
    ])
    assert report.passed, report.to_dict()


def test_check_objects_yaml_text_paths_and_mappings_make_the_same_suite(tmp_path):
    objects = [NotNull(column="age"), Between(column="age", min=0, max=120),
               {"check": "unique", "column": "id"}, RowCount(min=1000)]
    path = tmp_path / "s.yml"
    path.write_text(SUITE)
    digests = {load_suite(s).digest for s in (objects, SUITE, path, str(path),
                                              {"checks": load_suite(SUITE).to_dict()["checks"]})}
    assert len(digests) == 1


def test_the_report_is_json_and_reads_back(bad_parquet):
    from gannet.data.validation.report import ValidationReport

    report = gannet.data.validate(bad_parquet, SUITE)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is False
    assert data["format"] == "gannet.validation/1"
    assert ValidationReport.from_dict(data) == report


def test_csv_folders_and_arrow_tables_are_read(tmp_path):
    frame = people(1500)
    frame.to_csv(tmp_path / "people.csv", index=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:700].to_parquet(folder / "a.parquet")
    frame.iloc[700:].to_parquet(folder / "b.parquet")
    for source in (tmp_path / "people.csv", folder, pa.Table.from_pandas(frame)):
        report = gannet.data.validate(source, SUITE)
        assert report.passed, source
        assert report.rows == 1500


def test_a_polars_frame_is_read():
    pl = pytest.importorskip("polars")
    report = gannet.data.validate(pl.from_pandas(people(1000)), SUITE)
    assert report.passed


def test_a_great_expectations_suite_is_imported(tmp_path, bad_parquet):
    suite = {
        "expectation_suite_name": "people",
        "expectations": [
            {"expectation_type": "expect_column_values_to_not_be_null",
             "kwargs": {"column": "age"}},
            {"expectation_type": "expect_column_values_to_be_between",
             "kwargs": {"column": "age", "min_value": 0, "max_value": 120}},
            {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            {"type": "expect_column_values_to_be_in_set",
             "kwargs": {"column": "city", "value_set": ["Lyon", "Oslo", "Porto"]}},
            {"type": "expect_column_values_to_match_regex",
             "kwargs": {"column": "email", "regex": "@example"}},
            {"type": "expect_table_row_count_to_be_between",
             "kwargs": {"min_value": 1000, "max_value": None}},
            {"type": "expect_table_columns_to_match_set",
             "kwargs": {"column_set": ["id", "age", "city", "email", "signed_up"]}},
            {"type": "expect_table_columns_to_match_ordered_list",
             "kwargs": {"column_list": ["id", "age", "city", "email", "signed_up"]}},
        ],
    }
    path = tmp_path / "ge_suite.json"
    path.write_text(json.dumps(suite))
    report = gannet.data.validate(bad_parquet, path)
    assert [c.passed for c in report.checks] == [False, False, False, True, True, True, True, True]
    assert load_suite(path).name == "people"


def test_schema_order_required_and_strict_bounds():
    table = pa.table({"b": [1, 2], "a": ["x", "y"], "ts": pa.array(
        [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * 2, pa.timestamp("us", tz="UTC"))})
    report = gannet.data.validate(table, [
        {"check": "schema", "columns": ["a", "b"], "ordered": True},
        {"check": "schema", "required": ["a", "zz"], "columns": {"b": "string"}},
        {"check": "schema", "columns": {"b": "int64", "a": "str", "ts": "timestamp"}},
        {"check": "between", "column": "b", "min": 1, "max": 2, "strict_max": True},
        {"check": "between", "column": "b", "min": 1, "max": 2},
        {"check": "freshness", "column": "ts", "max_age": "1w"},
    ])
    ordered, required, typed, strict, inclusive, fresh = report.checks
    assert not ordered.passed and "columns in the order b, a, ts" in ordered.detail
    assert not required.passed
    assert required.observed["missing"] == ["zz"]
    assert required.observed["wrong_types"] == {"b": "int64"}
    assert typed.passed and inclusive.passed
    assert not strict.passed and strict.observed["outside"] == 1
    assert [r["b"] for r in strict.failing_rows] == [2]
    assert not fresh.passed and fresh.observed["latest"] == "2024-01-01T00:00:00+00:00"


def test_arrow_record_batches_and_datasets_are_read(tmp_path):
    import pyarrow.dataset as ds

    frame = people(1200)
    frame.to_parquet(tmp_path / "p.parquet")
    batch = pa.RecordBatch.from_pandas(frame)
    for source in (batch, ds.dataset(tmp_path / "p.parquet")):
        assert gannet.data.validate(source, SUITE).passed
