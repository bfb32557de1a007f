"""Fixtures the inference-server test modules share: ``client`` talks to the module's own
``server`` fixture (each module starts the server it needs)."""

import httpx
import pytest


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
