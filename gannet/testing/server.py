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

__all__ = ["running_server"]


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
