"""A customer's order statistics over time, their feature definitions, and the stores."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_runner import clean_env, runner

from gannet.cli.app import app
from tests.features.feature_data import DEFINITIONS, stats_frame


@pytest.fixture
def stats_parquet(tmp_path) -> Path:
    path = tmp_path / "data" / "churn_stats.parquet"
    path.parent.mkdir()
    stats_frame().to_parquet(path)
    return path


@pytest.fixture
def definitions_file(tmp_path, stats_parquet) -> Path:
    path = tmp_path / "features.yaml"
    path.write_text(DEFINITIONS.format(source=stats_parquet))
    return path


@pytest.fixture
def services(settings):
    from gannet.bootstrap import build

    services = build(settings)
    yield services
    services.close()


@pytest.fixture
def features(services):
    return services.features


def redis_url_or_skip() -> str:
    url = os.environ.get("GANNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is unreachable ({exc}); CI is set, so no skipping")
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture(params=["sqlite", "redis"])
def online_settings(request, settings):
    """The test's settings with the online store on SQLite, then on Redis (db 15, emptied)."""
    if request.param == "sqlite":
        yield settings
        return
    url = redis_url_or_skip()
    from gannet.features.online_store import open_online_store

    redis_settings = settings.replace(features_online_url=url)
    store = open_online_store(redis_settings)  # its namespace is this test's metadata store
    store.clear()
    yield redis_settings
    store.clear()
    store.close()


@pytest.fixture
def gannet(settings, tmp_path, monkeypatch):
    """Run ``gannet <args>`` against the test's stores; returns the CliRunner result."""
    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(settings.home), "--metadata-url", settings.metadata_url]

    def invoke(*args: str, env: dict | None = None):
        return runner.invoke(app, [*stores, *args], env={**clean_env(200), **(env or {})})

    return invoke
