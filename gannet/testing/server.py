"""A team server in this process, on a real socket on 127.0.0.1 (for tests).

``running_server(services)`` runs the control plane's app in uvicorn on a thread and
yields its URL; the remote SDK reaches it over real HTTP. ``server_process(settings)`` runs
the whole command, ``gannet server --no-auth``, in a process of its own (to kill it, or
restart it on the same port, under load).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gannet.serving.server.tcp import bind_socket, nodelay_protocol

__all__ = ["ServerProcess", "running_server", "server_process"]


@contextmanager
def running_server(services: Any, *, auth: bool = False, **app_options: Any) -> Iterator[str]:
    """``services`` served on a free port of 127.0.0.1 until the block ends; yields the URL."""
    import uvicorn

    from gannet.server.app import create_app

    app = create_app(services, auth=auth, **app_options)
    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(app, http=nodelay_protocol(), lifespan="off", access_log=False,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="gannet-test-server")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class ServerProcess:
    """A ``gannet server`` process: its URL, port and ``Popen``."""

    url: str
    port: int
    process: subprocess.Popen[str]

    def kill(self) -> None:
        """SIGKILL: the server dies wherever it is, as on a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(timeout=30)


@contextmanager
def server_process(
    settings: Any, *, port: int = 0, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """``gannet server --no-auth`` over ``settings``' stores, on ``port`` of 127.0.0.1 (0:
    a free one), ready when yielded; stopped (SIGTERM, then SIGKILL) after the block."""
    environ = {k: v for k, v in {**os.environ, **(env or {})}.items()
               if k not in ("GANNET_URI", "GANNET_TOKEN")}
    command = [sys.executable, "-m", "gannet", "--home", str(settings.home),
               "--metadata-url", settings.metadata_url, "--artifacts-url",
               settings.artifacts_url, "server", "--no-auth", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environ)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found is None:
            process.kill()
            raise RuntimeError(f"gannet server did not start: {line}{process.communicate()[1]}")
        url = found.group(0)
        _wait_ready(url, process)
        yield ServerProcess(url, int(url.rsplit(":", 1)[1]), process)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        process.communicate()


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"gannet server at {url} never became ready")
