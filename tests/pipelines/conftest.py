"""Pipeline files written for a test (real files: workers and the CLI load them by path)."""

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def write_flow(tmp_path):
    """``write_flow(source, name="flow.py")`` writes a pipeline file; returns its path."""

    def write(source: str, name: str = "flow.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture
def counter(tmp_path):
    """A folder where steps leave one file per execution: ``counter("load")`` counts them."""
    folder = tmp_path / "ran"
    folder.mkdir()

    def count(step: str) -> int:
        return len(list(folder.glob(f"{step}.*")))

    count.folder = folder
    return count


@pytest.fixture
def gannet_cli(settings, tmp_path, monkeypatch):
    """Run ``gannet <args>`` against the test's stores; returns the CliRunner result."""
    import os

    from typer.testing import CliRunner

    from gannet.cli.app import app

    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
              "--artifacts-url", settings.artifacts_url]
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "FORCE_COLOR": None})

    def invoke(*args: str):
        return CliRunner().invoke(app, [*stores, *args], env=env)

    return invoke
