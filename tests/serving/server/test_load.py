"""``gannet serve`` as a user runs it: pre-forked workers, TCP_NODELAY, bounded load."""

import asyncio
import ctypes
import os
import random
import socket
import time

import httpx
import psutil
import pytest
from server_fixtures import CliServer, register_breast_cancer

from gannet.serving.server.tcp import bind_socket

pytestmark = pytest.mark.slow
SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # x86-64 and aarch64 alike


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("load"))
    found.services.close()
    return found


def test_the_listening_socket_has_tcp_nodelay():
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def _nodelay_of(pid: int, fd: int) -> bool | None:
    """TCP_NODELAY of another process's socket (its fd duplicated with pidfd_getfd)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        return None
    try:
        copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if copy < 0:
            return None
        with socket.socket(fileno=copy) as sock:
            return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        os.close(pidfd)


def _server_sockets(server: CliServer, client_port: int) -> list[tuple[int, int, str]]:
    """(pid, fd, status) of the listening socket and the connection to ``client_port``."""
    found = []
    parent = psutil.Process(server.proc.pid)
    for proc in [parent, *parent.children()]:
        for conn in proc.net_connections(kind="tcp"):
            listening = conn.status == psutil.CONN_LISTEN
            if listening or (conn.raddr and conn.raddr.port == client_port):
                found.append((proc.pid, conn.fd, conn.status))
    return found


def test_two_workers_answer_keep_alive_requests_on_tcp_nodelay_sockets(registered):
    """The keep-alive connection a worker accepted has TCP_NODELAY, read from the socket
    itself (without it, each request waits ~40 ms for Nagle + delayed ACK: the latency
    is bench/serving.py's)."""
    body = registered.records(0)
    with CliServer(registered.settings, "churn@champion", "--workers", "2", "--no-log") \
            as server:
        assert len(psutil.Process(server.proc.pid).children()) == 2
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(5):
                assert client.post("/predict", json=body).status_code == 200
            client_port = _client_port(client)
            sockets = _server_sockets(server, client_port)
            checked = {status: _nodelay_of(pid, fd) for pid, fd, status in sockets}
    assert psutil.CONN_LISTEN in checked and psutil.CONN_ESTABLISHED in checked, sockets
    if None in checked.values():
        pytest.skip("pidfd_getfd is not allowed here: the socket options cannot be read")
    assert checked == {psutil.CONN_LISTEN: True, psutil.CONN_ESTABLISHED: True}


def test_metrics_of_all_workers_add_up_in_every_scrape(registered):
    body = registered.records(0)
    with CliServer(registered.settings, "churn@champion", "--workers", "2", "--no-log") \
            as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(40):
                assert client.post("/predict", json=body).status_code == 200
        counts = set()
        for _ in range(6):  # fresh connections: the kernel spreads them over both workers
            text = httpx.get(f"{server.url}/metrics", timeout=10).text
            counts.add(_predict_requests(text))
    assert counts == {40.0}


def _predict_requests(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("gannet_requests_total{") and 'route="/predict"' in line
    )


def _client_port(client: httpx.Client) -> int:
    pool = client._transport._pool
    connection = pool.connections[0]._connection
    return connection._network_stream.get_extra_info("socket").getsockname()[1]


def test_bounded_load_with_malformed_requests(registered):
    """2,000 requests, 16 at a time, 1% malformed: every good answer right, every bad one
    4xx, and the server's memory flat between the first and the second half."""
    total, concurrency = 2000, 16
    rng = random.Random(7)
    bad = set(rng.sample(range(total), total // 100))
    rows = registered.X.iloc[:100]
    expected = registered.expected(1, rows)
    records = rows.to_dict(orient="records")

    async def run(url, rss):
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

            async def one(i):
                async with gate:
                    if i in bad:
                        content = b'{"records": [' if i % 2 else b'[{"mean radius": "x"}]'
                        answer = await client.post("/predict", content=content)
                        return i, answer.status_code, None
                    answer = await client.post("/predict", json=[records[i % 100]])
                    return i, answer.status_code, answer.json()["predictions"][0]

            first = await asyncio.gather(*(one(i) for i in range(total // 2)))
            rss.append(server_rss())
            second = await asyncio.gather(*(one(i) for i in range(total // 2, total)))
            rss.append(server_rss())
            rss.append((await client.get("/metrics")).text)
            return first + second

    with CliServer(registered.settings, "churn@champion") as server:
        process = psutil.Process(server.proc.pid)

        def server_rss():
            return process.memory_info().rss

        rss = []
        started = time.monotonic()
        results = asyncio.run(asyncio.wait_for(run(server.url, rss), timeout=120))
        elapsed = time.monotonic() - started
    for i, status, prediction in results:
        if i in bad:
            assert 400 <= status < 500, (i, status)
        else:
            assert status == 200 and prediction == expected[i % 100], (i, status, prediction)
    batched = [line for line in rss[2].splitlines()
               if line.startswith("gannet_batch_rows_") and "churn" in line]
    count = next(float(x.split()[-1]) for x in batched if x.startswith("gannet_batch_rows_count"))
    rows = next(float(x.split()[-1]) for x in batched if x.startswith("gannet_batch_rows_sum"))
    assert rows > count, "under load, predict calls should take several requests"
    growth = (rss[1] - rss[0]) / 2**20
    assert growth < 25, f"server RSS grew {growth:.1f} MiB in the second 1,000 requests"
    print(f"\n{total} requests in {elapsed:.2f} s ({total / elapsed:.0f}/s), "
          f"RSS {rss[0] / 2**20:.0f} -> {rss[1] / 2**20:.0f} MiB, "
          f"{rows / count:.1f} rows per predict")
