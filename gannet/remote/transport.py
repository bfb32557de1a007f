"""HTTP to a team server, with the behaviour of a local call.

- Errors come back as the classes they were raised as: the server's envelope carries the
  code (``RESOURCE_DOES_NOT_EXIST``...), ``from_code`` makes the same ``GannetError``.
- A call that could not reach the server, or that a gateway failed (502/503/504, a 500
  that is not Gannet's own), is retried with exponential backoff and jitter (``RETRIES``
  times). Retrying is safe: GET, PUT and DELETE are idempotent; every POST carries an
  ``Idempotency-Key`` that stays the same across its retries, with which the server
  answers a retry with the first attempt's answer (``gannet.server.idempotency``), unless
  it is ``retry_safe`` by itself: a search, or tracking's writes, whose client chooses
  the id of what it creates (runs, experiments) and of each batch it logs, which the
  server records in the same transaction as the write (see ``gannet.remote.batches``).
- One ``httpx.Client`` (keep-alive connections) per transport, shared by threads.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from gannet.core import wire
from gannet.core.errors import (
    GannetError,
    InvalidArgument,
    Unauthenticated,
    Unavailable,
    from_code,
)
from gannet.core.version import VERSION

__all__ = ["RETRIES", "Transport"]

RETRIES = 6  # about 6 s of backoff in all before the call fails
_RETRY_STATUS = {502, 503, 504}


class Transport:
    def __init__(self, uri: str, token: str = "", *, timeout: float = 60.0,
                 retries: int = RETRIES) -> None:
        headers = {"user-agent": f"gannet/{VERSION}"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.uri = uri.rstrip("/")
        self.retries = retries
        self.client = httpx.Client(base_url=self.uri, headers=headers, timeout=timeout)

    def call(self, method: str, path: str, *, json: Any = None,
             params: Mapping[str, Any] | None = None, retry_safe: bool = False) -> Any:
        """The parsed JSON answer of ``method path`` (raises the error it answered).
        A POST that is not ``retry_safe`` carries an ``Idempotency-Key``."""
        content = _encoded(json) if json is not None else None
        headers = {"content-type": "application/json"} if content is not None else {}
        if method == "POST" and not retry_safe:
            headers["idempotency-key"] = uuid.uuid4().hex
        response = self.send(method, path, content=content, params=params, headers=headers)
        return orjson.loads(response.content) if response.content else None

    def send(self, method: str, path: str, *, body: Callable[[], Any] | None = None,
             stream: bool = False, **kwargs: Any) -> httpx.Response:
        """The response to ``method path``, retried while the server cannot be reached;
        raises the error of a 4xx/5xx answer. ``body()`` makes the request's content
        afresh for each attempt (a streamed upload); with ``stream`` the response's body
        is not read (the caller reads it, then closes the response)."""
        attempt = 0
        while True:
            if body is not None:
                kwargs["content"] = body()
            try:
                request = self.client.build_request(method, path, **kwargs)
                response = self.client.send(request, stream=stream)
                if stream and response.status_code >= 400:
                    response.read()
            except (httpx.TransportError) as exc:
                if attempt >= self.retries:
                    raise Unavailable(
                        f"cannot reach the Gannet server at {self.uri}: {exc}",
                        "check that it runs and the uri setting (GANNET_URI) names it",
                    ) from exc
            else:
                if response.status_code < 400:
                    return response
                if not _retryable(response) or attempt >= self.retries:
                    raise error_of(response)
            attempt += 1
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))

    def close(self) -> None:
        self.client.close()


def _encoded(body: Any) -> bytes:
    try:
        return wire.dumps_body(body)
    except (TypeError, orjson.JSONEncodeError) as exc:  # checked values never get here
        raise InvalidArgument(
            f"the request cannot be sent as JSON: {exc}",
            "pass text without lone surrogates and integers that fit in 64 bits",
        ) from exc


def _retryable(response: httpx.Response) -> bool:
    """A gateway's 502/503/504, or a 500 that is not the server's own envelope (a proxy's):
    a Gannet 500 names a bug, which the same request would hit again."""
    if response.status_code in _RETRY_STATUS:
        return True
    return response.status_code == 500 and not response.content.startswith(b"{")


def error_of(response: httpx.Response) -> GannetError:
    """The ``GannetError`` a server's error answer stands for."""
    try:
        body = orjson.loads(response.content)
        code, message, hint = body["code"], body["error"], body.get("hint")
    except (orjson.JSONDecodeError, KeyError, TypeError):
        text = response.text[:200]
        if response.status_code == 401:
            return Unauthenticated(f"the server refused the credentials: {text}",
                                   "set GANNET_TOKEN to a valid API token")
        return GannetError(f"the server answered {response.status_code}: {text}")
    return from_code(code, message, hint)
