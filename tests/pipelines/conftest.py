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
