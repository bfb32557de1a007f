"""Fixtures of the team server's tests: a server over a fresh store, on a real socket."""

from collections.abc import Iterator

import httpx
import pytest

from gannet.bootstrap import build
from gannet.testing.server import running_server


@pytest.fixture
def services(settings):
    services = build(settings)
    yield services
    services.close()


@pytest.fixture
def open_server(services) -> Iterator[str]:
    """The URL of a server without auth (``--no-auth``) over ``services``."""
    with running_server(services, auth=False) as url:
        yield url


@pytest.fixture
def http(open_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=open_server, timeout=30) as client:
        yield client
