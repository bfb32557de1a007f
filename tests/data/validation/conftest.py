"""Generated tables, and ``gannet`` on the command line against a test's own stores."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "cli"))
from cli_runner import clean_env, runner
from validation_tables import SUITE, people

from gannet.cli.app import app


@pytest.fixture
def good_parquet(tmp_path) -> Path:
    path = tmp_path / "good.parquet"
    people().to_parquet(path)
    return path


@pytest.fixture
def bad_parquet(tmp_path) -> Path:
    path = tmp_path / "bad.parquet"
    people(bad=True).to_parquet(path)
    return path


@pytest.fixture
def suite_file(tmp_path) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE)
    return path


@pytest.fixture
def gannet(settings, tmp_path, monkeypatch):
    """Run ``gannet <args>`` against the test's stores; returns the CliRunner result."""
    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
              "--artifacts-url", settings.artifacts_url]

    def invoke(*args: str):
        return runner.invoke(app, [*stores, *args], env=clean_env(200))

    return invoke
