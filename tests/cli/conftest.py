"""Running ``gannet`` against a test's own stores."""

import pytest
from cli_runner import clean_env, runner

from gannet.cli.app import app


@pytest.fixture
def gannet(settings, tmp_path, monkeypatch):
    """Run ``gannet <args>`` against the test's stores; returns the CliRunner result."""
    monkeypatch.chdir(tmp_path)  # no gannet.toml of the repository is found
    stores = [
        "--home",
        str(settings.home),
        "--metadata-url",
        settings.metadata_url,
        "--artifacts-url",
        settings.artifacts_url,
    ]

    def invoke(*args: str, columns: int = 200, env: dict[str, str] | None = None,
               input: str | None = None):
        return runner.invoke(app, [*stores, *args], env={**clean_env(columns), **(env or {})},
                             input=input)

    return invoke
