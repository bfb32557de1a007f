"""pytest fixtures (load with ``pytest_plugins = ["gannet.testing.fixtures"]``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gannet.core.settings import Settings
from gannet.testing.postgres import PostgresUnavailable, empty_all_tables, temporary_database


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a PostgreSQL database that exists for this test session only."""
    with _database_or_skip() as url:
        yield url


@contextmanager
def _database_or_skip() -> Iterator[str]:
    try:
        with temporary_database() as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set, so PostgreSQL tests may not skip)")
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A metadata store URL with no schema at all (for migration tests), once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with _database_or_skip() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty metadata store URL, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gannet.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    empty_all_tables(url)
    yield url


@pytest.fixture
def settings(tmp_path: Path, metadata_url: str) -> Settings:
    """Settings for a fresh Gannet home in a temporary folder, on each metadata backend."""
    return Settings.load(
        environ={},
        cwd=tmp_path,
        home=tmp_path / ".gannet",
        metadata_url=metadata_url,
        progress=False,
        lock_timeout=10.0,
    )
