"""Generated tables, and ``gannet`` on the command line against a test's own stores."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "cli"))
from cli_runner import clean_env, runner

from gannet.cli.app import app

SUITE = """\
checks:
  - {check: not_null, column: age}
  - {check: between, column: age, min: 0, max: 120}
  - {check: unique, column: id}
  - {check: row_count, min: 1000}
"""


def people(rows: int = 2000, *, seed: int = 0, bad: bool = False):
    """A pandas DataFrame of people; ``bad``: a null age, an age of 130, a repeated id."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(rows, dtype="int64"),
        "age": rng.integers(0, 100, rows).astype("float64"),
        "city": rng.choice(["Lyon", "Oslo", "Porto"], rows),
        "email": [f"user{i}@example.com" for i in range(rows)],
        "signed_up": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows), unit="h"),
    })
    if bad:
        frame.loc[3, "age"] = None
        frame.loc[7, "age"] = 130.0
        frame.loc[11, "id"] = 10
    return frame


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
