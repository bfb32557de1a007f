"""The real entry points (console script, ``python -m gannet``), a light ``--help``, and docs.

``docs/cli.md`` must have a section per command, and mention every option of it, so the
page cannot drift from the code.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from gannet.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "cli.md"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    env.update(NO_COLOR="1", COLUMNS="120")
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_python_dash_m_gannet_runs_the_cli(tmp_path):
    result = run(sys.executable, "-m", "gannet", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for group in ("experiments", "runs", "artifacts", "db", "info"):
        assert group in result.stdout


def test_console_script_reports_errors_without_a_traceback(tmp_path):
    script = Path(sys.executable).parent / "gannet"
    if not script.exists():
        pytest.skip("the gannet console script is not installed in this environment")
    home = tmp_path / "home"
    result = run(str(script), "--home", str(home), "runs", "show", "nope", cwd=tmp_path)
    assert result.returncode == 4  # not found
    assert result.stderr.startswith("Error: no run with id 'nope'")
    assert "hint: find run ids with `gannet runs list`" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    version = run(str(script), "--version", cwd=tmp_path)
    assert version.returncode == 0
    assert version.stdout.startswith("gannet ")


def test_the_cli_modules_import_no_heavy_libraries(tmp_path):
    code = (
        "import sys, gannet.cli.app; gannet.cli.app.app; "  # every command module, built
        "heavy = {'sqlalchemy', 'pandas', 'alembic', 'fsspec', 'numpy'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = run(sys.executable, "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_command_imports_its_own_modules_only(tmp_path):
    """``gannet data list`` builds and imports ``gannet data`` alone: what a short command
    costs is mostly starting Python and importing."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules\n"
        "                                      if m.startswith('gannet.cli.'))))\n"
        "from gannet.cli.app import main\n"
        f"sys.argv = ['gannet', '--home', {str(tmp_path / 'home')!r}, 'data', 'list']\n"
        "main()\n"
    )
    result = run(sys.executable, "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.strip().splitlines()[-1]
    assert "'gannet.cli.data'" in loaded
    assert "'gannet.cli.runs'" not in loaded and "'gannet.cli.server'" not in loaded


@pytest.mark.parametrize(("args", "named"), [
    (["--home", "h", "data", "add", "x"], "data"),
    (["--debug", "--metadata-url", "sqlite:///m.db", "lineage", "churn@1"], "lineage"),
    (["--help"], None),
    (["info"], None),  # not in the table: the whole command is built
    (["nope"], None),
])
def test_the_command_a_line_runs_is_found_past_the_global_options(args, named):
    from gannet.cli.app import command_named

    assert command_named(args) == named


def command_paths() -> dict[str, list[str]]:
    """``"gannet runs search"`` -> its option names, for every command of the app."""
    found: dict[str, list[str]] = {}

    def walk(command: object, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}")
            return
        options = [
            opt
            for param in command.params
            for opt in param.opts
            if opt.startswith("--") and opt != "--help"
        ]
        found[path] = options

    walk(typer.main.get_command(app), "gannet")
    return found


def doc_sections() -> dict[str, str]:
    """Heading ``### `gannet ...` `` -> the text under it."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^### `(gannet[^`]*)`\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_command_and_option_is_documented():
    commands = command_paths()
    assert "gannet runs search" in commands
    assert "--order-by" in commands["gannet runs search"]
    sections = doc_sections()
    assert sorted(sections) == sorted(commands), "docs/cli.md headings != the app's commands"
    for path, options in commands.items():
        body = sections[path]
        assert f"$ {path}" in body, f"{path} has no example in docs/cli.md"
        for option in options:
            assert option in body, f"{path} {option} is not documented in docs/cli.md"
    text = DOCS.read_text(encoding="utf-8")
    for option in ("--home", "--metadata-url", "--artifacts-url", "--version"):
        assert option in text


def test_a_reader_that_stops_early_gets_no_error(tmp_path):
    """``gannet experiments list --json | head -c 0``: a closed pipe is the reader's choice,
    not a bug; the command exits as a pipeline's writer does (141), saying nothing."""
    home = str(tmp_path / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    for name in ("a", "b", "c"):
        run(sys.executable, "-m", "gannet", "--home", home, "experiments", "create", name,
            cwd=tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "gannet", "--home", home, "experiments",
                             "list", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path, env=env)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(60) == 141
    assert stderr == ""
