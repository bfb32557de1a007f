"""Servers are stateless: replicas over one database (and one artifact store) serve the
same data, and ``gannet server --workers N`` pre-forks workers on TCP_NODELAY sockets."""

import socket

import httpx
import pytest

from gannet.bootstrap import build
from gannet.testing.server import ServerProcess, running_server


def test_two_servers_on_one_database_serve_the_same_data(settings):
    first, second = build(settings), build(settings)  # two processes' worth of engines
    try:
        with running_server(first) as one, running_server(second) as two:
            made = {}
            for i in range(10):  # write through both, alternately
                url = one if i % 2 else two
                answer = httpx.post(f"{url}/api/v1/experiments", json={"name": f"exp-{i}"})
                assert answer.status_code == 201, answer.text
                made[f"exp-{i}"] = answer.json()["experiment_id"]
            for url in (one, two):
                listed = httpx.get(f"{url}/api/v1/experiments").json()["experiments"]
                assert {e["name"]: e["experiment_id"] for e in listed
                        if e["name"] != "Default"} == made
            clash = httpx.post(f"{two}/api/v1/experiments", json={"name": "exp-1"})
            assert clash.status_code == 409  # made through the other one
    finally:
        first.close()
        second.close()


@pytest.mark.slow
def test_the_server_pre_forks_workers_that_share_the_settings(settings):
    import psutil

    with ServerProcess(settings, "--workers", "2", "--no-auth") as server:
        assert len(psutil.Process(server.proc.pid).children()) == 2
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for i in range(6):
                assert client.post("/api/v1/experiments",
                                   json={"name": f"w-{i}"}).status_code == 201
            names = {e["name"] for e in client.get("/api/v1/experiments").json()["experiments"]}
        assert {f"w-{i}" for i in range(6)} <= names
    # what the workers wrote is in the store the settings named (not a default one)
    services = build(settings)
    try:
        assert services.tracking.get_experiment_by_name("w-5") is not None
    finally:
        services.close()


def test_no_auth_is_refused_off_loopback(settings):
    from gannet.core.errors import InvalidArgument
    from gannet.server.runner import check_no_auth

    check_no_auth("127.0.0.1")
    check_no_auth("::1")
    for address in ("0.0.0.0", "10.1.2.3", "example.com"):
        with pytest.raises(InvalidArgument, match="--no-auth is refused"):
            check_no_auth(address)


def test_the_listening_socket_has_tcp_nodelay():
    from gannet.serving.server.tcp import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()
