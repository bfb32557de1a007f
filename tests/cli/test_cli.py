"""The ``gannet`` command line through Typer's CliRunner, on real stores (SQLite and PostgreSQL).

Data is made with ``GannetClient``; every command is then run as a user would type it,
with ``--home``, ``--metadata-url`` and ``--artifacts-url`` naming the test's stores.
"""

import json
import math
import tempfile
from pathlib import Path

import pytest
from cli_runner import clean_env, runner

from gannet import GannetClient
from gannet.cli.app import app
from gannet.store.metadata.migrations import HEAD


@pytest.fixture
def client(settings):
    made = GannetClient(settings)
    yield made
    made.close()


@pytest.fixture
def trio(client):
    """Experiment "exp" with runs r0, r1, r2 (acc 0.3, 0.7, 0.9), oldest first."""
    eid = client.create_experiment("exp", tags={"team": "vision"})
    runs = []
    for i, acc in enumerate([0.3, 0.7, 0.9]):
        run = client.create_run(eid, run_name=f"r{i}", tags={"gannet.source": "x.py"})
        client.log_param(run.run_id, "lr", [0.1, 0.2, 0.2][i])
        client.log_param(run.run_id, "model", "rf")
        client.set_tag(run.run_id, "owner", "ana")
        for step in range(10):
            client.log_metric(run.run_id, "loss", 1 / (step + 1) + i, step=step)
        client.log_metric(run.run_id, "acc", acc)
        client.log_text(run.run_id, f"notes of r{i}", "notes/readme.txt")
        client.log_text(run.run_id, "weights", "model/weights.bin")
        client.flush()
        client.set_terminated(run.run_id)
        runs.append(run.run_id)
    return {"experiment_id": eid, "runs": runs}


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def failed(result, *texts: str, code: int):
    """The command failed as a GannetError should: its exit code, message and hint, no
    traceback."""
    assert result.exit_code == code, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: ")
    assert "\n  hint: " in result.stderr
    assert "Traceback" not in result.output
    for text in texts:
        assert text in result.stderr
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


# -- experiments ---------------------------------------------------------------------------


def test_experiments_create_list_rename_delete_restore(gannet):
    created = ok(gannet("experiments", "create", "churn", "--tag", "team=growth", "-t", "v=1"))
    assert "Created experiment 'churn' with id " in created.stdout
    listed = as_json(gannet("experiments", "list", "--json"))
    churn = next(e for e in listed if e["name"] == "churn")
    assert churn["tags"] == {"team": "growth", "v": "1"}
    assert churn["lifecycle_stage"] == "active"
    assert {e["name"] for e in listed} == {"churn", "Default"}
    table = ok(gannet("experiments", "list")).stdout
    assert churn["experiment_id"] in table
    assert "team=growth" in table

    ok(gannet("experiments", "rename", "churn", "churn-v2"))  # by name
    ok(gannet("experiments", "delete", churn["experiment_id"]))  # by id
    active = as_json(gannet("experiments", "list", "--json"))
    assert [e["name"] for e in active] == ["Default"]
    deleted = as_json(gannet("experiments", "list", "--deleted", "--json"))
    assert [(e["name"], e["lifecycle_stage"]) for e in deleted] == [("churn-v2", "deleted")]
    assert "deleted" in ok(gannet("experiments", "list", "--all")).stdout

    ok(gannet("experiments", "restore", "churn-v2"))
    assert len(as_json(gannet("experiments", "list", "--json"))) == 2


def test_experiment_errors_exit_with_their_code_and_a_hint(gannet):
    ok(gannet("experiments", "create", "dup"))
    failed(gannet("experiments", "create", "dup"), "'dup' already exists", code=5)
    failed(gannet("experiments", "delete", "nope"), "no experiment with id or name 'nope'", code=4)
    failed(gannet("experiments", "delete", "0"), "cannot be deleted", code=3)


def test_usage_errors_exit_2(gannet):
    assert gannet("experiments", "list", "--all", "--deleted").exit_code == 2
    assert gannet("experiments", "create", "x", "--tag", "no-equals-sign").exit_code == 2
    assert gannet("runs", "compare", "only-one").exit_code == 2
    assert gannet("runs", "list", "--max", "0").exit_code == 2


# -- runs ------------------------------------------------------------------------------------


def test_runs_list_is_newest_first_and_filters_by_experiment(gannet, client, trio):
    other = client.create_experiment("other")
    lone = client.create_run(other, run_name="lone").run_id
    listed = as_json(gannet("runs", "list", "--json"))
    assert [r["info"]["run_id"] for r in listed] == [lone, *reversed(trio["runs"])]
    assert listed[1]["data"]["metrics"]["acc"] == 0.9
    assert listed[1]["data"]["params"] == {"lr": "0.2", "model": "rf"}

    only = as_json(gannet("runs", "list", "-e", "exp", "--json"))
    assert [r["info"]["run_id"] for r in only] == list(reversed(trio["runs"]))
    both = as_json(gannet("runs", "list", "-e", "exp", "-e", other, "--json"))
    assert len(both) == 4

    capped = ok(gannet("runs", "list", "--max", "2"))
    assert lone in capped.stdout
    assert trio["runs"][2] in capped.stdout
    assert trio["runs"][0] not in capped.stdout
    assert "more runs exist" in capped.stderr
    failed(gannet("runs", "list", "-e", "nope"), "'nope'", code=4)


def test_runs_table_shows_values_and_keeps_ids_whole_on_a_narrow_terminal(gannet, trio):
    wide = ok(gannet("runs", "list")).stdout
    for name in ("r0", "r1", "r2", "exp", "FINISHED", "acc=0.9", "loss=2.1"):
        assert name in wide
    narrow = ok(gannet("runs", "list", columns=80)).stdout
    assert all(run_id in narrow for run_id in trio["runs"])
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 80


def test_runs_search_filters_orders_and_pages(gannet, client, trio):
    r0, r1, r2 = trio["runs"]
    found = as_json(
        gannet("runs", "search", "metrics.acc > 0.5", "--order-by", "metrics.acc DESC", "--json")
    )
    assert [r["info"]["run_id"] for r in found["runs"]] == [r2, r1]
    assert found["next_page_token"] is None
    ascending = as_json(
        gannet("runs", "search", "metrics.acc > 0.5", "--order-by", "metrics.acc ASC", "--json")
    )
    assert [r["info"]["run_id"] for r in ascending["runs"]] == [r1, r2]

    query = ["runs", "search", "params.model = 'rf'", "-e", "exp", "--order-by", "metrics.acc"]
    first = as_json(gannet(*query, "--max", "2", "--json"))
    assert [r["info"]["run_id"] for r in first["runs"]] == [r0, r1]
    token = first["next_page_token"]
    second = as_json(gannet(*query, "--max", "2", "--page-token", token, "--json"))
    assert [r["info"]["run_id"] for r in second["runs"]] == [r2]
    assert second["next_page_token"] is None

    table = ok(gannet(*query, "--max", "2")).stdout
    assert f"next page token: {token}" in table
    assert r0 in table
    assert r2 not in table


def test_runs_search_errors_name_the_problem(gannet, trio):
    failed(gannet("runs", "search", "metrics.acc >> 1"), "invalid filter", "position", code=3)
    failed(gannet("runs", "search", "--page-token", "garbage"), "invalid page token", code=3)


def test_runs_show_hides_gannet_tags_and_draws_history(gannet, client, trio):
    run_id = trio["runs"][2]
    client.log_metric(run_id, "bad", math.nan)
    client.log_metric(run_id, "big", math.inf)
    client.log_metric(run_id, "small", -math.inf)
    client.flush()
    page = ok(gannet("runs", "show", run_id))
    for text in (run_id, "r2", "exp", "FINISHED", "lr", "0.2", "owner", "ana", "NaN", "inf"):
        assert text in page.stdout
    assert "gannet.source" not in page.stdout
    assert "1 gannet.* tag(s) hidden" in page.stderr
    loss_line = next(line for line in page.stdout.splitlines() if " loss " in line)
    assert "10" in loss_line  # the number of points
    assert "█" in loss_line and "▁" in loss_line  # the sparkline
    assert "gannet.source" in ok(gannet("runs", "show", run_id, "--all-tags")).stdout

    document = as_json(gannet("runs", "show", run_id, "--json"))
    assert document["info"]["run_id"] == run_id
    assert document["info"]["status"] == "FINISHED"
    assert document["data"]["metrics"] == {
        "acc": 0.9,
        "loss": pytest.approx(2.1),
        "bad": "NaN",
        "big": "Infinity",
        "small": "-Infinity",
    }
    assert document["data"]["tags"] == {"owner": "ana"}
    assert document["metric_points"] == {"acc": 1, "bad": 1, "big": 1, "loss": 10, "small": 1}


def test_unknown_run_id_exits_4_and_names_it(gannet, trio):
    failed(
        gannet("runs", "show", "feedfacefeedfacefeedfacefeedface"),
        "no run with id 'feedfacefeedfacefeedfacefeedface'",
        "gannet runs list",
        code=4,
    )
    failed(gannet("runs", "delete", "nope"), "'nope'", code=4)
    failed(gannet("artifacts", "list", "nope"), "'nope'", code=4)


def test_runs_compare_marks_differing_params(gannet, trio):
    r0, r1, r2 = trio["runs"]
    document = as_json(gannet("runs", "compare", r0, r1, r2, "--json"))
    assert [r["info"]["run_id"] for r in document["runs"]] == [r0, r1, r2]
    assert document["params"] == {"lr": ["0.1", "0.2", "0.2"], "model": ["rf", "rf", "rf"]}
    assert document["metrics"]["acc"] == [0.3, 0.7, 0.9]
    assert document["differing_params"] == ["lr"]

    table = ok(gannet("runs", "compare", r0, r2)).stdout
    lr_line = next(line for line in table.splitlines() if "params.lr" in line)
    assert "≠" in lr_line and "0.1" in lr_line and "0.2" in lr_line
    model_line = next(line for line in table.splitlines() if "params.model" in line)
    assert "≠" not in model_line
    assert r0 in table and r2 in table


def test_runs_delete_and_restore(gannet, trio):
    run_id = trio["runs"][0]
    assert f"Deleted run {run_id}" in ok(gannet("runs", "delete", run_id)).stdout
    active = as_json(gannet("runs", "list", "--json"))
    assert run_id not in [r["info"]["run_id"] for r in active]
    deleted = as_json(gannet("runs", "list", "--deleted", "--json"))
    assert [r["info"]["run_id"] for r in deleted] == [run_id]
    ok(gannet("runs", "restore", run_id))
    assert len(as_json(gannet("runs", "list", "--json"))) == 3


# -- artifacts -------------------------------------------------------------------------------


def test_artifacts_list_and_get(gannet, trio, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where get without -o downloads
    run_id = trio["runs"][1]
    top = as_json(gannet("artifacts", "list", run_id, "--json"))
    assert [(e["path"], e["is_dir"]) for e in top] == [("model", True), ("notes", True)]
    notes = as_json(gannet("artifacts", "list", run_id, "notes", "--json"))
    assert notes[0]["path"] == "notes/readme.txt"
    assert notes[0]["size"] == len("notes of r1")
    assert notes[0]["digest"].startswith("blake3:")
    assert "notes/readme.txt" in ok(gannet("artifacts", "list", run_id, "notes")).stdout

    out = tmp_path / "out"
    landed = ok(gannet("artifacts", "download", run_id, "-o", str(out))).stdout.strip()
    assert Path(landed) == out
    assert (out / "notes" / "readme.txt").read_text() == "notes of r1"
    assert (out / "model" / "weights.bin").read_text() == "weights"

    one = Path(ok(gannet("artifacts", "download", run_id, "notes/readme.txt")).stdout.strip())
    assert one.read_text() == "notes of r1"
    assert one.is_relative_to(tmp_path)
    failed(gannet("artifacts", "download", run_id, "missing.txt"), "'missing.txt'", code=4)


# -- db and info -----------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_of_a_fresh_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "fresh"

    def gannet_db(*args: str):
        return ok(runner.invoke(app, ["--home", str(home), "db", *args], env=clean_env()))

    assert f"empty (no schema); head is {HEAD}" in gannet_db("revision").stdout
    assert f"upgraded from revision (empty) to {HEAD}" in gannet_db("upgrade").stdout
    assert (home / "gannet.db").is_file()
    assert f"already at revision {HEAD} (head)" in gannet_db("upgrade").stdout
    assert f"revision {HEAD} (head)" in gannet_db("revision").stdout


def test_db_commands_on_each_backend(gannet, client):
    client.create_experiment("touch")  # the store is migrated
    assert f"revision {HEAD} (head)" in ok(gannet("db", "revision")).stdout
    assert f"already at revision {HEAD}" in ok(gannet("db", "upgrade")).stdout


def test_info_says_where_each_setting_came_from(gannet, settings):
    document = as_json(gannet("info", "--json"))
    assert document["settings"]["home"] == {"value": str(settings.home), "source": "argument"}
    assert document["settings"]["lock_timeout"]["source"] == "default"
    assert document["config_file"] is None
    table = ok(gannet("info")).stdout
    assert str(settings.home) in table
    assert "argument" in table


def test_info_hides_database_passwords_and_opens_no_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = "postgresql://ana:s3cret@db.invalid:5432/gannet"  # never connected to
    args = ["--home", str(tmp_path / "h"), "--metadata-url", url, "info"]
    table = ok(runner.invoke(app, args, env=clean_env())).stdout
    assert "postgresql://ana:***@db.invalid:5432/gannet" in table
    assert "s3cret" not in table
    document = as_json(runner.invoke(app, [*args, "--json"], env=clean_env()))
    assert (
        document["settings"]["metadata_url"]["value"]
        == "postgresql://ana:***@db.invalid:5432/gannet"
    )
    assert not (tmp_path / "h").exists()


def test_settings_errors_are_gannet_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gannet.toml").write_text("colour = 'blue'\n")
    result = runner.invoke(app, ["info"], env=clean_env())
    failed(result, "unknown setting(s) colour", "known settings are", code=3)


def test_json_errors_print_the_envelope_and_debug_shows_the_traceback(gannet):
    result = gannet("runs", "show", "nope", "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout) == {
        "error": {
            "code": "RESOURCE_DOES_NOT_EXIST",
            "message": "no run with id 'nope'",
            "hint": "find run ids with `gannet runs list`",
        }
    }
    debug = gannet("--debug", "runs", "show", "nope")
    assert debug.exit_code == 4
    assert "Traceback" in debug.stderr and "NotFound" in debug.stderr
    assert "Error: no run with id 'nope'" in debug.stderr
