"""Running the inference server: one process, or a pre-fork of N workers on one socket.

``serve`` resolves what to serve (a deployment, or a model reference), binds the
listening socket itself (``tcp.bind_socket``: TCP_NODELAY, so keep-alive clients never
wait for Nagle's algorithm) and runs uvicorn on it with the HTTP protocol of
``tcp.nodelay_protocol``. With ``workers > 1`` the parent forks N children after binding
(``prefork.Supervisor``); each child builds its own services (``build(settings)``: stores
are never shared across a fork), loads the models and runs
``uvicorn.Server(config).serve(sockets=[sock])``.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings
from gannet.serving.log.types import PredictionLog
from gannet.serving.server.app import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_FEEDBACK_BYTES,
    InferenceApp,
    create_app,
)
from gannet.serving.server.host import ModelHost, StateSource, single_model_state
from gannet.serving.server.metrics import use_shared_metrics
from gannet.serving.server.prefork import Supervisor
from gannet.serving.server.tcp import (
    DEFAULT_READ_TIMEOUT,
    MAX_HEADER_BYTES,
    bind_socket,
    nodelay_protocol,
)

__all__ = ["ServeOptions", "build_app", "resolve_target", "serve", "usable_workers"]

Build = Callable[[Settings], Any]  # settings -> services (.registry, .deployments?, .close())


@dataclass(frozen=True)
class ServeOptions:
    batch_max_rows: int = 256
    batch_max_wait_ms: float = 2.0
    poll_interval: float = 1.0
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_feedback_bytes: int = DEFAULT_MAX_FEEDBACK_BYTES
    log_factory: Callable[[], PredictionLog | None] | None = None  # made in each worker
    feedback_factory: Callable[[], Callable[..., None] | None] | None = None
    # background upkeep (the inference log's compaction): runs until its event is set, in a
    # child process beside the workers, or in a thread of the one worker
    housekeeping: Callable[[threading.Event], None] | None = None
    graceful_timeout: float = 30.0
    log_level: str = "warning"
    read_timeout: float = DEFAULT_READ_TIMEOUT  # for a request to arrive whole
    keep_alive_timeout: int = 30  # seconds: an idle keep-alive connection is closed then
    cors_origins: tuple[str, ...] = ()  # origins whose web pages may call (CORS); "*": any
    access_log: bool = False  # one line per request on stderr
    explain_max_rows: int = 100  # rows per /explain request (413 above)
    explain_timeout: float = 5.0  # seconds an /explain may take (503 beyond)


def resolve_target(services: Any, target: str) -> tuple[StateSource, str]:
    """What ``target`` names: a deployment (when ``services.deployments`` knows it) or a
    model reference (``churn@champion``, ``churn/3``; a bare name means its ``@champion``,
    else ``@latest``). Returns how to read its state now, and a description."""
    deployments = getattr(services, "deployments", None)
    if deployments is not None and "/" not in target and "@" not in target:
        try:
            deployments.get_deployment_state(target)
        except NotFound:
            pass
        else:
            return (lambda: deployments.get_deployment_state(target)), f"deployment {target}"
    ref = target
    if "/" not in target and "@" not in target:
        model = services.registry.get_registered_model(target)
        ref = f"{target}@{'champion' if 'champion' in model.aliases else 'latest'}"
    version = services.registry.resolve_model_version(ref)
    return (lambda: single_model_state(ref)), f"{ref} (now version {version.version})"


def build_app(services: Any, target: str, options: ServeOptions) -> InferenceApp:
    source, _ = resolve_target(services, target)
    host = ModelHost(services.registry, source, poll_interval=options.poll_interval,
                     batch_max_rows=options.batch_max_rows,
                     batch_max_wait=options.batch_max_wait_ms / 1000.0,
                     features=getattr(services, "features", None))
    log = options.log_factory() if options.log_factory else None
    feedback = options.feedback_factory() if options.feedback_factory else None
    return create_app(host, log=log, feedback=feedback, max_body_bytes=options.max_body_bytes,
                      max_feedback_bytes=options.max_feedback_bytes,
                      cors_origins=options.cors_origins, access_log=options.access_log,
                      explain_max_rows=options.explain_max_rows,
                      explain_timeout=options.explain_timeout)


def usable_workers(workers: int) -> tuple[int, str | None]:
    """How many workers this platform can run for ``workers`` asked, and why not all.

    Workers are forked after the socket is bound; without ``os.fork`` (Windows) there is one.
    """
    if workers > 1 and not hasattr(os, "fork"):
        return 1, (f"this platform cannot fork, so --workers {workers} runs one worker; run "
                   f"several servers behind a load balancer for more")
    return workers, None


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
    workers, _ = usable_workers(workers)
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
        with _housekeeping_thread(options.housekeeping):
            _run_worker(sock, lambda: services, target, options)
        return
    services.close()
    shared_metrics = tempfile.mkdtemp(prefix="gannet-metrics-")

    def work() -> None:
        use_shared_metrics(shared_metrics)
        _run_worker(sock, lambda: build(settings), target, options)

    try:
        Supervisor(workers, work, metrics_dir=shared_metrics,
                   housekeeping=options.housekeeping).run()
    finally:
        sock.close()
        shutil.rmtree(shared_metrics, ignore_errors=True)


@contextmanager
def _housekeeping_thread(housekeeping: Callable[[threading.Event], None] | None
                         ) -> Iterator[None]:
    if housekeeping is None:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(target=housekeeping, args=(stop,), name="gannet-housekeeping",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _run_worker(sock: socket.socket, make_services: Callable[[], Any], target: str,
                options: ServeOptions) -> None:
    import uvicorn

    services = make_services()
    try:
        app = build_app(services, target, options)
        config = uvicorn.Config(
            app, http=nodelay_protocol(options.read_timeout), loop=_loop(), lifespan="on",
            access_log=False, log_level=options.log_level,
            timeout_graceful_shutdown=math.ceil(options.graceful_timeout),
            timeout_keep_alive=options.keep_alive_timeout,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
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
