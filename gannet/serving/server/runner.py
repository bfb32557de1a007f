"""Running the inference server: one process, or a pre-fork of N workers on one socket.

``serve`` binds the listening socket itself - ``SO_REUSEADDR`` and ``TCP_NODELAY`` set on
it, created with ``IPPROTO_TCP`` - so every accepted connection has Nagle's algorithm off
(Linux hands the listening socket's TCP_NODELAY down to accepted sockets; asyncio also
sets it on sockets whose protocol is IPPROTO_TCP; and the HTTP protocol below sets it on
each connection once more). Without it a keep-alive client waits ~40 ms per request
(Nagle + delayed ACK): the trap uvicorn's own multi-worker mode falls into, because its
socket has protocol 0 and asyncio then leaves TCP_NODELAY unset.

With ``workers > 1`` the parent forks N children after binding; each child builds its
own services (``build(settings)``: stores are never shared across a fork), loads the models
and runs ``uvicorn.Server(config).serve(sockets=[sock])``. The parent supervises: a child
that dies is restarted (a crash loop stops the server), SIGTERM/SIGINT are forwarded to
the children, which stop accepting, answer what is in flight and close their log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings
from gannet.serving.app import DEFAULT_MAX_BODY, InferenceApp, create_app
from gannet.serving.host import ModelHost, StateSource, single_model_state
from gannet.serving.metrics import use_shared_metrics
from gannet.serving.types import PredictionLog

__all__ = ["ServeOptions", "bind_socket", "build_app", "resolve_target", "serve"]

logger = logging.getLogger("gannet.serving")

Build = Callable[[Settings], Any]  # settings -> services (.registry, .deployments?, .close())


@dataclass(frozen=True)
class ServeOptions:
    batch_max_rows: int = 256
    batch_max_wait_ms: float = 2.0
    poll_interval: float = 1.0
    max_body_bytes: int = DEFAULT_MAX_BODY
    log_factory: Callable[[], PredictionLog | None] | None = None  # made in each worker
    feedback_factory: Callable[[], Callable[..., None] | None] | None = None
    graceful_timeout: float = 30.0
    log_level: str = "warning"


def resolve_target(services: Any, target: str) -> tuple[StateSource, str]:
    """What ``target`` names: a deployment (when ``services.deployments`` knows it) or a
    model reference (``churn@champion``, ``churn/3``; a bare name means its ``@champion``,
    else ``@latest``). Returns how to read its state now, and a description."""
    deployments = getattr(services, "deployments", None)
    if deployments is not None and "/" not in target and "@" not in target:
        try:
            deployments.current(target)
        except NotFound:
            pass
        else:
            return (lambda: deployments.current(target)), f"deployment {target}"
    ref = target
    if "/" not in target and "@" not in target:
        model = services.registry.get_registered_model(target)
        ref = f"{target}@{'champion' if 'champion' in model.aliases else 'latest'}"
    version = services.registry.resolve(ref)
    return (lambda: single_model_state(ref)), f"{ref} (now version {version.version})"


def build_app(services: Any, target: str, options: ServeOptions) -> InferenceApp:
    source, _ = resolve_target(services, target)
    host = ModelHost(services.registry, source, poll_interval=options.poll_interval,
                     batch_max_rows=options.batch_max_rows,
                     batch_max_wait=options.batch_max_wait_ms / 1000.0)
    log = options.log_factory() if options.log_factory else None
    feedback = options.feedback_factory() if options.feedback_factory else None
    return create_app(host, log=log, feedback=feedback, max_body_bytes=options.max_body_bytes)


def bind_socket(host: str = "127.0.0.1", port: int = 8080, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket with SO_REUSEADDR and TCP_NODELAY (inherited when accepted)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidArgument(f"cannot listen on {host}:{port}: {exc.strerror}",
                              hint="choose another --port, or stop what uses it") from None
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def serve(
    settings: Settings,
    target: str,
    *,
    build: Build,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    options: ServeOptions | None = None,
    on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Serve ``target`` until SIGTERM/SIGINT; ``build(settings)`` makes each worker's services."""
    options = options or ServeOptions()
    if workers < 1:
        raise InvalidArgument(f"--workers must be at least 1, got {workers}")
    services = build(settings)
    try:
        resolve_target(services, target)  # a wrong target fails here, before any fork
    except BaseException:
        services.close()
        raise
    sock = bind_socket(host, port)
    if on_listening is not None:
        on_listening(host, sock.getsockname()[1])
    if workers == 1:
        _run_worker(sock, lambda: services, target, options)
        return
    services.close()
    shared_metrics = tempfile.mkdtemp(prefix="gannet-metrics-")

    def work() -> None:
        use_shared_metrics(shared_metrics)
        _run_worker(sock, lambda: build(settings), target, options)

    try:
        Supervisor(workers, work, metrics_dir=shared_metrics).run()
    finally:
        sock.close()
        shutil.rmtree(shared_metrics, ignore_errors=True)


def _run_worker(sock: socket.socket, make_services: Callable[[], Any], target: str,
                options: ServeOptions) -> None:
    import uvicorn

    services = make_services()
    try:
        app = build_app(services, target, options)
        config = uvicorn.Config(
            app, http=_protocol_class(), loop=_loop(), lifespan="on", access_log=False,
            log_level=options.log_level, timeout_graceful_shutdown=options.graceful_timeout,
            timeout_keep_alive=30,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        services.close()


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _protocol_class() -> type:
    """uvicorn's fastest HTTP/1.1 protocol, setting TCP_NODELAY on each connection."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base

    class NoDelayProtocol(Base):  # type: ignore[valid-type, misc]
        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)

    return NoDelayProtocol


class Supervisor:
    """A pre-fork parent: N children running ``work``; restarts, forwards stop signals."""

    CRASH_WINDOW = 5.0  # a child dying sooner than this after its start counts as a crash
    MAX_CRASHES = 5

    def __init__(
        self, workers: int, work: Callable[[], None], *, metrics_dir: str | None = None
    ) -> None:
        self.workers = workers
        self.work = work
        self.metrics_dir = metrics_dir
        self.children: dict[int, float] = {}  # pid -> start time
        self.stopping = False
        self.crashes = 0

    def run(self) -> None:
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for _ in range(self.workers):
                self._spawn()
            while self.children:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                self._reap(pid, status)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _reap(self, pid: int, status: int) -> None:
        started = self.children.pop(pid, None)
        if self.metrics_dir is not None:  # its live gauges no longer count
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, self.metrics_dir)
        if started is None or self.stopping:
            return
        code = os.waitstatus_to_exitcode(status)
        self.crashes = self.crashes + 1 if time.monotonic() - started < self.CRASH_WINDOW else 0
        if self.crashes >= self.MAX_CRASHES:
            logger.error("workers keep dying (last exit status %s): stopping", code)
            self._stop(signal.SIGTERM, None)
            return
        logger.warning("worker %s exited with status %s: starting another", pid, code)
        self._spawn()

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            code = 0
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                self.work()
            except BaseException as exc:
                code = 1
                print(f"gannet serve worker {os.getpid()} failed: {exc}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
