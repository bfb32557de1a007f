"""Pre-forked workers are supervised: when their parent dies, they stop and free the port."""

import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import psutil
import pytest
from server_fixtures import CliServer, register_breast_cancer
from waiting import wait_until

from gannet.core.errors import InvalidArgument
from gannet.serving.server.tcp import bind_socket

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("supervision"))
    found.services.close()
    return found


def _port_is_free(port: int) -> bool:
    """Whether ``gannet serve`` could listen on ``port`` now (what a restart does)."""
    try:
        bind_socket("127.0.0.1", port).close()
    except InvalidArgument:  # "Address already in use"
        return False
    return True


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (its new parent may never reap it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_workers_exit_and_free_the_port_when_their_parent_is_killed(registered):
    server = CliServer(registered.settings, "churn@champion", "--workers", "2", "--no-log")
    with server:
        parent = server.proc.pid

        def two_workers() -> list[int] | None:
            children = psutil.Process(parent).children()
            return [c.pid for c in children] if len(children) == 2 else None

        workers = wait_until(two_workers, what="two workers")
        port = urlsplit(server.url).port
        assert not _port_is_free(port)
        try:
            os.kill(parent, signal.SIGKILL)  # no SIGTERM to forward: the parent just dies
            server.proc.wait(30)
            wait_until(lambda: all(_gone(pid) for pid in workers), 60,
                       what=f"workers {workers} exiting after their parent died")
            wait_until(lambda: _port_is_free(port), 30, what=f"port {port} being free")
        finally:
            for pid in workers:  # on a failure, leave no orphan behind
                if not _gone(pid):
                    os.kill(pid, signal.SIGKILL)


def test_workers_on_a_platform_without_fork_say_so_and_serve_with_one(registered):
    """What ``gannet serve --workers 3`` does where ``os.fork`` does not exist (Windows)."""
    settings = registered.settings
    script = (
        "import os, sys; del os.fork; from gannet.cli.app import main; "
        f"sys.argv = ['gannet', '--home', {str(settings.home)!r}, '--metadata-url', "
        f"{settings.metadata_url!r}, '--artifacts-url', {settings.artifacts_url!r}, 'serve', "
        "'churn@champion', '--port', '0', '--workers', '3', '--no-log']; main()"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        listening = proc.stdout.readline()
        assert "(1 worker)" in listening, listening
        assert psutil.Process(proc.pid).children() == []  # nothing forked
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert "cannot fork, so --workers 3 runs one worker" in " ".join(stderr.split())
