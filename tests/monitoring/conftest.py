"""Monitoring tests: the CLI and the services against a test's own stores. The helpers
beside them: ``logged_churn`` (a log written at chosen times) and ``webhook_receiver``;
the end-to-end test takes ``server_fixtures`` from tests/serving/server."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "cli", HERE.parent / "serving", HERE.parent / "serving" / "server"):
    sys.path.insert(0, str(folder))

from cli_runner import clean_env, runner  # noqa: E402

from gannet.cli.app import app  # noqa: E402


@pytest.fixture
def gannet(settings, tmp_path, monkeypatch):
    """Run ``gannet <args>`` against the test's stores; returns the CliRunner result."""
    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
              "--artifacts-url", settings.artifacts_url]

    def invoke(*args):
        return runner.invoke(app, [*stores, *args], env=clean_env())

    return invoke


@pytest.fixture
def services(settings):
    from gannet.bootstrap import build

    found = build(settings)
    yield found
    found.close()
