"""``gannet features`` on the command line: apply, diff, list, show, materialize."""

import json

import orjson


def test_apply_list_show_diff_materialize(gannet, definitions_file, stats_parquet):
    done = gannet("features", "apply", str(definitions_file))
    assert done.exit_code == 0, done.output
    assert "churn_stats" in done.output and "created" in done.output

    again = gannet("features", "apply", str(definitions_file), "--json")
    assert [c["status"] for c in json.loads(again.output)] == ["unchanged", "unchanged"]

    listed = gannet("features", "list")
    assert listed.exit_code == 0 and "never materialized" in listed.output

    changed = definitions_file.parent / "changed.yaml"
    changed.write_text(definitions_file.read_text().replace(
        "features: [orders_30d, spend_30d]", "features: [orders_30d]"))
    diff = gannet("features", "diff", str(changed))
    assert diff.exit_code == 0, diff.output
    assert "BREAKING: feature spend_30d dropped" in diff.output
    assert "nothing was registered" in diff.output
    shown = json.loads(gannet("features", "show", "churn_stats", "--json").output)
    assert str(shown["version"]) == "1" and "spend_30d" in shown["definition"]["features"]

    first = gannet("features", "materialize", "--end", "2026-01-02T12:00:00Z", "--json")
    assert first.exit_code == 0, first.output
    (result,) = orjson.loads(first.output)
    assert result["view"] == "churn_stats" and result["rows"] == 3 and result["start"] is None
    second = orjson.loads(gannet("features", "materialize", "--json").output)
    assert second[0]["rows"] == 1 and second[0]["start"] == result["end"]
    assert "never materialized" not in gannet("features", "list").output


def test_cli_errors_name_the_problem(gannet, definitions_file, tmp_path):
    missing = gannet("features", "show", "churn_stats")
    assert missing.exit_code != 0 and "churn_stats" in missing.output
    nofile = gannet("features", "apply", str(tmp_path / "absent.yaml"))
    assert nofile.exit_code != 0 and "absent.yaml" in nofile.output
    gannet("features", "apply", str(definitions_file))
    bad = gannet("features", "materialize", "--start", "yesterday")
    assert bad.exit_code != 0 and "yesterday" in bad.output
    unknown = gannet("features", "materialize", "--view", "churn_stat")
    assert unknown.exit_code != 0 and "churn_stat" in unknown.output
