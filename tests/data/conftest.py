"""Versioned datasets through their faces: ``gannet data ...`` and ``gannet.data``."""

import json
import os

import pytest
from typer.testing import CliRunner

from gannet.cli.app import app

runner = CliRunner()


@pytest.fixture
def gannet(settings, tmp_path, monkeypatch):
    """Run ``gannet <args>`` against the test's stores; returns the CliRunner result."""
    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url,
              "--artifacts-url", settings.artifacts_url]
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})

    def invoke(*args: str):
        return runner.invoke(app, [*stores, *map(str, args)], env=env)

    return invoke


@pytest.fixture
def data_json(gannet):
    """``gannet data <args> --json``, which must succeed; the JSON it printed."""

    def invoke(*args: str):
        result = gannet("data", *args, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    return invoke


@pytest.fixture
def services(settings):
    from gannet.bootstrap import build

    built = build(settings)
    yield built
    built.close()
