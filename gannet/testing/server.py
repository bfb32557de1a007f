"""A team server in this process, on a real socket on 127.0.0.1 (for tests).

``running_server(services)`` runs the control plane's app in uvicorn on a thread and
yields its URL; the remote SDK reaches it over real HTTP. Tests of the whole command
(``gannet server`` in its own process) use ``gannet.testing.processes`` instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gannet.serving.server.tcp import bind_socket, nodelay_protocol

__all__ = ["ServerProcess", "running_server"]


@contextmanager
def running_server(services: Any, *, auth: bool = False, port: int = 0,
                   **app_options: Any) -> Iterator[str]:
    """``services`` served on ``port`` (default: a free one) of 127.0.0.1 until the block
    ends; yields the URL."""
    import uvicorn

    from gannet.server.app import create_app

    app = create_app(services, auth=auth, **app_options)
    sock = bind_socket("127.0.0.1", port)
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


class ServerProcess:
    """``gannet server`` (or ``command``: ``ui``) in a subprocess (its own process group) on
    a free port, as a user runs it; ``lines`` keeps what it printed before listening (the
    first admin token)."""

    def __init__(self, settings: Any, *args: str, env: dict[str, str] | None = None,
                 command: str = "server") -> None:
        import sys

        self.command = [
            sys.executable, "-m", "gannet", "--home", str(settings.home), "--metadata-url",
            settings.metadata_url, "--artifacts-url", settings.artifacts_url,
            command, "--port", "0", *args,
        ]
        self.extra_env = env or {}
        self.proc: Any = None
        self.url = ""
        self.lines: list[str] = []
        self.stderr = ""  # what it wrote to stderr, once stopped

    def __enter__(self) -> ServerProcess:
        import os
        import re
        import subprocess

        env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
        env.update(self.extra_env)
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True)
        for line in self.proc.stdout:
            self.lines.append(line)
            found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.url = f"http://127.0.0.1:{found.group(1)}"
                break
        if not self.url:
            self.stop()
            raise RuntimeError(f"gannet server did not start: {''.join(self.lines)}"
                               f"{self.proc.stderr.read()}")
        wait_ready(self.url, self.proc)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, sig: int | None = None, timeout: float = 30.0) -> int:
        """Stop it (SIGTERM unless ``sig`` says otherwise); its exit status."""
        import os
        import signal
        import subprocess

        try:
            os.killpg(self.proc.pid, sig or signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers it left behind
        except ProcessLookupError:
            pass
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                if pipe is self.proc.stderr:
                    self.stderr = pipe.read()
                pipe.close()
        return int(self.proc.returncode)


def wait_ready(url: str, proc: Any, timeout: float = 30.0, path: str = "/ready") -> None:
    """Until ``url + path`` answers 200 (a server in the subprocess ``proc``); a process
    that exits first, or a server not ready within ``timeout`` s, is a ``RuntimeError``."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gannet server exited ({proc.returncode}): "
                               f"{proc.stderr.read()}")
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"gannet server at {url} not ready in {timeout} s")
