"""One command line: --json wherever something is printed, one flag name per meaning,
clean help screens, no empty tables, ids never wrapped, and settings errors that create
nothing."""

import json
import re

import pytest
import typer
from cli_runner import clean_env, runner

from gannet.cli.app import app

# commands that print but have no --json, and why
NO_JSON = {
    "gannet serve": "a server that runs until stopped: it logs requests, it reports nothing",
    "gannet server": "the same: a server that runs until stopped",
    "gannet monitor grafana": "its output is a JSON document already (a Grafana dashboard)",
    "gannet monitor metrics": "its output is Prometheus text, for scrapers",
    "gannet ui": "the same server, with the web UI for people",
}
ODD_METAVAR = re.compile(r"\s<(bool|str|path|int[^>]*|float[^>]*|typer[^>]*)>\s")
ROW_COUNT = re.compile(r"\b(how many|at most|most this many)\b", re.I)


def _commands() -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(command: object, path: str) -> None:
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")
        if not getattr(command, "commands", None):
            found[path] = command

    walk(typer.main.get_command(app), "gannet")
    return found


def _options(command: object) -> list:
    return [p for p in command.params if p.param_type_name == "option"]


def test_every_printing_command_has_json():
    without = sorted(
        path for path, command in _commands().items()
        if not any("--json" in p.opts for p in _options(command))
    )
    assert without == sorted(NO_JSON), f"no --json: {sorted(set(without) - set(NO_JSON))}"


def test_one_flag_name_per_meaning():
    for path, command in _commands().items():
        for option in _options(command):
            names = option.opts
            if option.hidden:  # an old name kept for scripts
                assert option.help.startswith("Deprecated:"), (path, names)
                continue
            assert not {"--max", "--last", "--out", "--rows", "--count"} & set(names), (path, names)
            if ROW_COUNT.search(option.help or "") and "rows" not in names[0]:
                assert names[0] == "--limit", (path, names)
            if "-o" in names:
                assert "--output" in names, (path, names)


def test_help_screens_show_types_cleanly():
    for path, command in _commands().items():
        words = path.split()[1:]
        result = runner.invoke(app, [*words, "--help"], env=clean_env(120))
        assert result.exit_code == 0, (path, result.output)
        shown = result.output
        odd = ODD_METAVAR.search(shown)
        assert odd is None, f"{path} --help shows {odd.group(0)!r}:\n{shown}"
        usage = next(line for line in shown.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage
        for param in command.params:
            if param.param_type_name == "argument" and getattr(param, "help", None):
                first_words = " ".join(param.help.split()[:3])
                assert first_words in " ".join(shown.split()), (path, param.name, shown)


def test_deprecated_names_still_work(gannet, sdk, tmp_path):
    sdk.set_experiment("old-names")
    with sdk.start_run(log_environment=False) as run:
        sdk.log_text("hi", "notes.txt")
    listed = json.loads(gannet("runs", "list", "--max", "1", "--json").stdout)
    assert [r["info"]["run_id"] for r in listed] == [run.run_id]
    assert json.loads(gannet("runs", "list", "-n", "1", "--json").stdout) == listed
    landed = gannet("artifacts", "download", run.run_id, "--out", str(tmp_path / "a"), "--json")
    assert json.loads(landed.stdout)["local_path"] == str(tmp_path / "a")
    assert (tmp_path / "a" / "notes.txt").read_text() == "hi"


def test_confirmations_print_json(gannet):
    created = gannet("experiments", "create", "churn", "--json")
    assert created.exit_code == 0, created.output
    experiment = json.loads(created.stdout)
    assert experiment["name"] == "churn"
    deleted = json.loads(gannet("experiments", "delete", "churn", "--json").stdout)
    assert deleted == {**experiment, "lifecycle_stage": "deleted"}
    assert json.loads(gannet("roles", "list", "--json").stdout) == {}
    assert json.loads(gannet("keys", "list", "--json").stdout) == []
    key = json.loads(gannet("keys", "create", "--json").stdout)
    (listed,) = json.loads(gannet("keys", "list", "--json").stdout)
    assert (listed["key_id"], listed["is_signing_key"]) == (key["key_id"], True)
    revision = json.loads(gannet("db", "revision", "--json").stdout)
    assert revision["revision"] == revision["head"]


def test_empty_listings_print_no_table(gannet):
    for args, remark in (
        (("runs", "list"), "no runs"),
        (("runs", "search", "metrics.acc > 0"), "no runs match"),
        (("experiments", "list", "--deleted"), "no experiments (deleted)"),
        (("models", "list"), "no registered models"),
        (("deployments", "list"), "no deployments"),
        (("audit", "nothing:"), "no audit entries"),
    ):
        result = gannet(*args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stdout == "", (args, result.stdout)
        assert remark in result.stderr, (args, result.stderr)


def test_run_ids_are_never_wrapped_or_cut(gannet, sdk):
    sdk.set_experiment("narrow")
    ids = []
    for name in ("a-rather-long-run-name-that-must-give-way", "b"):
        with sdk.start_run(run_name=name, log_environment=False) as run:
            sdk.log_metric("accuracy", 0.5)
        ids.append(run.run_id)
    for width in (40, 60):
        listed = gannet("runs", "list", columns=width).stdout
        for run_id in ids:
            assert run_id in listed, (width, listed)
    compared = gannet("runs", "compare", *ids, columns=60).stdout
    for run_id in ids:
        assert run_id in compared, compared


def test_a_home_that_is_a_file_is_refused_and_nothing_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home.txt"
    home.write_text("not a folder")
    result = runner.invoke(app, ["runs", "list"], env={**clean_env(), "GANNET_HOME": str(home)})
    assert result.exit_code == 3
    assert f"the Gannet home {home} (GANNET_HOME) is a file, not a folder" in result.stderr
    assert "hint: point it at a folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home.txt"]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_sqlite_url_in_a_missing_folder_is_refused_and_nothing_is_created(
    tmp_path, monkeypatch, how
):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'typo' / 'sub' / 'gannet.db'}"
    home = tmp_path / "home"
    env = {**clean_env(), "GANNET_HOME": str(home)}
    args = ["runs", "list", "--json"]
    if how == "option":
        args = ["--metadata-url", url, *args]
    else:
        env["GANNET_METADATA_URL"] = url
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "INVALID_SETTING"
    named = "--metadata-url (or metadata_url=)" if how == "option" else "GANNET_METADATA_URL"
    assert error["message"].startswith(f"{named} {url} names the folder")
    assert "does not exist" in error["message"]
    assert "mkdir -p" in error["hint"]
    assert list(tmp_path.iterdir()) == []  # neither the folder nor the home was made
