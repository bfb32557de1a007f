"""``gannet data validate|profile``: reports, exit statuses, stored results, run tags."""

import json

from gannet.bootstrap import build


def _run(settings):
    services = build(settings)
    try:
        experiment = services.tracking.create_experiment("checks")
        return services.tracking.create_run(experiment).info.run_id
    finally:
        services.close()


def test_good_data_passes_and_exits_zero(gannet, good_parquet, suite_file):
    result = gannet("data", "validate", str(good_parquet), "--suite", str(suite_file))
    assert result.exit_code == 0, result.output
    assert "not_null(age)" in result.output and "FAIL" not in result.output
    assert "4 checks on 2000 rows passed" in result.output


def test_a_failed_check_exits_one_with_its_offending_rows(gannet, bad_parquet, suite_file):
    result = gannet("data", "validate", str(bad_parquet), "--suite", str(suite_file))
    assert result.exit_code == 1, result.output
    assert "FAILED (3 of 4 checks)" in result.output
    assert "Offending rows of between(age)" in result.output and "130.0" in result.output
    as_json = gannet("data", "validate", str(bad_parquet), "-s", str(suite_file), "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["passed"] is False
    assert [c["passed"] for c in report["checks"]] == [False, False, False, True]
    assert report["checks"][0]["failing_rows"][0]["id"] == 3


def test_results_are_stored_and_the_run_is_tagged(gannet, settings, good_parquet,
                                                  bad_parquet, suite_file):
    run_id = _run(settings)
    assert gannet("data", "validate", str(bad_parquet), "-s", str(suite_file),
                  "--run", run_id).exit_code == 1
    services = build(settings)
    try:
        assert services.tracking.get_run(run_id).data.tags["gannet.validation"] == "failed"
        assert gannet("data", "validate", str(good_parquet), "-s", str(suite_file),
                      "--run", run_id).exit_code == 0
        assert services.tracking.get_run(run_id).data.tags["gannet.validation"] == "passed"
        stored = services.validation.search_data_validations(run_id=run_id)
        assert [(r.dataset, r.passed) for r in stored] == [
            (str(good_parquet), True), (str(bad_parquet), False)]
        assert stored[1].report.checks[1].observed["max"] == 130.0
        assert stored[0].suite_digest == stored[1].suite_digest
        assert len(services.validation.search_data_validations(dataset=str(bad_parquet))) == 1
    finally:
        services.close()


def test_a_great_expectations_suite_is_accepted(gannet, tmp_path, bad_parquet):
    suite = tmp_path / "ge_suite.json"
    suite.write_text(json.dumps({"expectations": [
        {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"expectation_type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 1, "max_value": 5000}},
    ]}))
    result = gannet("data", "validate", str(bad_parquet), "--suite", str(suite), "--json")
    assert result.exit_code == 1
    assert [c["passed"] for c in json.loads(result.output)["checks"]] == [False, True]


def test_bad_input_exits_with_the_error_status(gannet, tmp_path, good_parquet, suite_file):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("checks:\n  - {check: not_null, column: agee}\n")
    result = gannet("data", "validate", str(good_parquet), "--suite", str(wrong))
    assert result.exit_code == 3
    assert "no column 'agee'" in result.output
    assert "the columns are: id, age, city, email, signed_up" in result.output
    missing = gannet("data", "validate", str(tmp_path / "none.parquet"), "-s", str(suite_file))
    assert missing.exit_code == 4 and "no file or folder at" in missing.output
    no_run = gannet("data", "validate", str(good_parquet), "-s", str(suite_file),
                    "--run", "0" * 32, "--json")
    assert no_run.exit_code == 4
    assert json.loads(no_run.output)["error"]["code"] == "RESOURCE_DOES_NOT_EXIST"


def test_profile_prints_a_table_or_the_json_document(gannet, bad_parquet):
    result = gannet("data", "profile", str(bad_parquet))
    assert result.exit_code == 0, result.output
    assert "2000 rows, 5 columns" in result.output
    assert "1 (0.1%)" in result.output
    as_json = gannet("data", "profile", str(bad_parquet), "--json")
    document = json.loads(as_json.output)
    assert document["format"] == "gannet.profile/1" and document["rows"] == 2000


def test_validate_through_a_team_server(settings, tmp_path, monkeypatch, bad_parquet,
                                        suite_file):
    """``GANNET_URI=... gannet data validate --run``: validated here, stored there."""
    import os

    from typer.testing import CliRunner

    from gannet.cli.app import app
    from gannet.testing.server import running_server

    monkeypatch.chdir(tmp_path)
    run_id = _run(settings)
    services = build(settings)
    try:
        with running_server(services) as url:
            env = {k: None for k in os.environ if k.startswith("GANNET_")}
            env.update({"GANNET_URI": url, "GANNET_HOME": str(tmp_path / "elsewhere"),
                        "COLUMNS": "200", "NO_COLOR": "1"})
            result = CliRunner().invoke(app, ["data", "validate", str(bad_parquet), "--suite",
                                              str(suite_file), "--run", run_id], env=env)
        assert result.exit_code == 1, result.output
        assert "FAILED (3 of 4 checks)" in result.output
        assert services.tracking.get_run(run_id).data.tags["gannet.validation"] == "failed"
        stored = services.validation.search_data_validations(run_id=run_id)
        assert [(r.dataset, r.passed) for r in stored] == [(str(bad_parquet), False)]
    finally:
        services.close()
