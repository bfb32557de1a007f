"""A real S3 endpoint for tests: moto's server, in a thread, on 127.0.0.1.

Real HTTP on a real socket, so the whole path (s3fs, aiobotocore, signing, multipart
uploads, error translation) runs as it would against AWS or MinIO; only the far end is a
fake. This is how s3fs tests itself. Use the ``s3_endpoint`` fixture (one server per test
session; give each test its own prefix with ``endpoint.url()``), or ``moto_s3_server()``
directly.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class S3Endpoint:
    """Where the test server listens and the bucket made for the session."""

    endpoint_url: str
    bucket: str

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options that reach this server (dummy credentials, no retries to wait
        out)."""
        return {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": self.endpoint_url},
            "config_kwargs": {"retries": {"max_attempts": 2}},
        }

    def url(self, prefix: str | None = None) -> str:
        """An ``s3://`` URL in the bucket; a fresh random prefix unless one is given."""
        return f"s3://{self.bucket}/{prefix or uuid.uuid4().hex}"


@contextmanager
def moto_s3_server(bucket: str = "gannet-test") -> Iterator[S3Endpoint]:
    """Start moto's S3 server on a free port of 127.0.0.1, create ``bucket``, stop after."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = S3Endpoint(f"http://{host}:{port}", bucket)
        _create_bucket(endpoint)
        yield endpoint
    finally:
        server.stop()


def _create_bucket(endpoint: S3Endpoint) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True, **endpoint.storage_options)
    fs.mkdir(endpoint.bucket)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """A moto S3 server and bucket for the whole test session."""
    with moto_s3_server() as endpoint:
        yield endpoint
