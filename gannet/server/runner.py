"""Running the control plane: one process, or a pre-fork of N workers on one socket.

The same machinery as ``gannet serve`` (``gannet.serving.server``): the parent binds the
socket with TCP_NODELAY, opens (and migrates, once, under the store's migration lock) the
metadata store, then forks the workers; each builds its own services from the very same
``Settings`` object (it crosses the fork in memory, never through private environment
variables) and runs uvicorn on the shared socket.

``auth=False`` is for a laptop: it is refused on any address but loopback, and announced.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.core.settings import Settings
from gannet.serving.server.metrics import use_shared_metrics
from gannet.serving.server.prefork import Supervisor
from gannet.serving.server.runner import usable_workers
from gannet.serving.server.tcp import (
    DEFAULT_READ_TIMEOUT,
    MAX_HEADER_BYTES,
    bind_socket,
    nodelay_protocol,
)

if TYPE_CHECKING:
    from gannet.bootstrap import Services

__all__ = ["ServerOptions", "check_no_auth", "run_server"]

_LOG = logging.getLogger("gannet.server")


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 5005
    workers: int = 1
    auth: bool = True
    log_level: str = "warning"
    graceful_timeout: float = 30.0
    keep_alive_timeout: int = 30


def check_no_auth(host: str) -> None:
    """``--no-auth`` only where nobody else can connect: a loopback address."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidArgument(
            f"--no-auth is refused on {host}: anyone who reaches that address would act "
            "as an administrator",
            "listen on 127.0.0.1 for a server of your own, or create users and tokens "
            "(gannet users create, gannet tokens create) and leave auth on",
        )


def run_server(
    settings: Settings,
    options: ServerOptions,
    *,
    build: Callable[[Settings], Services],
    on_listening: Callable[[str, int], None] | None = None,
    on_ready: Callable[[Services], None] | None = None,
) -> None:
    """Serve the API until SIGTERM/SIGINT; ``on_ready(services)`` runs once in the parent
    after the store is open (the first start's administrator is made there)."""
    if not options.auth:
        check_no_auth(options.host)
    workers, _ = usable_workers(options.workers)
    services = build(settings)  # migrates the store once, before any worker starts
    try:
        services.oidc.check_settings()  # a typo in the SSO settings stops it here
        if on_ready is not None:
            on_ready(services)
    except BaseException:
        services.close()
        raise
    sock = bind_socket(options.host, options.port)
    if on_listening is not None:
        on_listening(options.host, sock.getsockname()[1])
    if workers == 1:
        _run_worker(sock, services, options)
        return
    services.close()
    shared_metrics = tempfile.mkdtemp(prefix="gannet-server-metrics-")

    def work() -> None:
        use_shared_metrics(shared_metrics)
        _run_worker(sock, build(settings), options)

    try:
        Supervisor(workers, work, metrics_dir=shared_metrics).run()
    finally:
        sock.close()
        shutil.rmtree(shared_metrics, ignore_errors=True)


def _run_worker(sock: socket.socket, services: Services, options: ServerOptions) -> None:
    import uvicorn

    from gannet.server.app import create_app

    stop = threading.Event()
    background = [t for t in (_start_controller(services, stop),
                              _start_scheduler(services, stop)) if t is not None]

    def stop_controller() -> None:
        stop.set()
        for thread in background:
            thread.join(options.graceful_timeout)

    try:
        app: Any = create_app(services, auth=options.auth)
        config = uvicorn.Config(
            app, http=nodelay_protocol(DEFAULT_READ_TIMEOUT), lifespan="off",
            access_log=False, log_level=options.log_level,
            timeout_graceful_shutdown=math.ceil(options.graceful_timeout),
            timeout_keep_alive=options.keep_alive_timeout,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        _stopping_too(uvicorn.Server, stop_controller)(config).run(sockets=[sock])
    finally:
        stop_controller()
        services.close()


def _stopping_too(server: type, also: Callable[[], None]) -> type:
    """uvicorn's server, which runs ``also`` once it has shut down: after a signal it
    raises the signal again, so nothing after ``run`` would run (and the controller's
    lease would stay held until it expires)."""
    import asyncio

    class Stopping(server):
        async def shutdown(self, sockets: Any = None) -> None:
            await super().shutdown(sockets=sockets)
            await asyncio.to_thread(also)

    return Stopping


def _start_controller(services: Services, stop: threading.Event) -> threading.Thread | None:
    """The continuous-training controller, in a thread beside the API (``controller_interval``
    seconds apart; 0: none). Every worker and replica runs one; the lease lets one act. A
    failure (the database away for a moment) is logged and the loop starts again."""
    interval = services.settings.controller_interval

    def tick() -> None:
        services.training.run_controller(interval, stop, _log_report)  # returns when stopped

    return _in_background("the continuous-training controller", services, interval, stop, tick)


def _start_scheduler(services: Services, stop: threading.Event) -> threading.Thread | None:
    """What ``gannet scheduler`` does, in a thread beside the API (``scheduler_interval``
    seconds apart; 0: none): fire the pipelines' due windows (a lease per window lets one
    worker or replica fire each, once) and run the monitors (a window's report is keyed
    by it, so two runs write the same one)."""

    def tick() -> None:
        for fired in services.pipelines.run_due_schedules():
            _LOG.info("schedule %s: run %s %s", fired.schedule_id, fired.run_id, fired.status)
        _, errors = services.monitoring.run_monitors()
        for name, error in errors.items():
            _LOG.warning("monitor %s: %s", name, error)

    return _in_background("the scheduler", services, services.settings.scheduler_interval,
                          stop, tick)


def _in_background(what: str, services: Services, interval: float, stop: threading.Event,
                   tick: Callable[[], None]) -> threading.Thread | None:
    """``tick`` every ``interval`` seconds in a daemon thread until ``stop`` (none when the
    interval is 0); a failure is logged and the loop goes on."""
    if interval <= 0:
        return None
    from gannet import bootstrap

    bootstrap.use_default_services(lambda: services)  # what pipeline steps read and write

    def loop() -> None:
        while not stop.is_set():
            try:
                tick()
            except Exception:
                _LOG.exception("%s failed; it starts again", what)
            stop.wait(interval)

    thread = threading.Thread(target=loop, name=f"gannet-{what.split()[-1]}", daemon=True)
    thread.start()
    return thread


def _log_report(report: Any) -> None:
    for decision in report.decisions:
        _LOG.info("policy %s: %s: %s", decision.policy, decision.action, decision.reason)
    for policy, error in report.errors.items():
        _LOG.warning("policy %s: %s", policy, error)
