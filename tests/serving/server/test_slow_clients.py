"""Slow clients are timed out (``--read-timeout``) while everyone else is served: a body
that drips in is answered 408, headers that never end or a connection that says nothing
are closed. Real sockets against a real ``gannet serve``."""

import json
import socket
import threading

import httpx
import pytest
from server_fixtures import CliServer, register_breast_cancer

pytestmark = pytest.mark.slow

READ_TIMEOUT = 1.0
PATIENCE = 60.0  # how long a test waits for the server to act (a busy machine is slow)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("slow-clients"))
    found.services.close()
    return found


class Dripper:
    """A client that sends ``head`` at once, then one byte of ``drip`` every ``every``
    seconds (never all of it), and keeps what the server sends until it closes."""

    def __init__(self, port: int, head: bytes, drip: bytes = b"", every: float = 0.1) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
        self.head, self.drip, self.every = head, drip, every
        self.received = b""
        self.closed = threading.Event()  # the server closed the connection
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Dripper":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed.set()
        self.sock.close()

    def _run(self) -> None:
        if self.head:
            self.sock.sendall(self.head)
        sent = 0
        while not self.closed.is_set():
            try:
                self.sock.settimeout(self.every)
                chunk = self.sock.recv(65536)
            except TimeoutError:
                if sent < len(self.drip) - 1:  # the last byte never goes
                    try:
                        self.sock.sendall(self.drip[sent:sent + 1])
                    except OSError:
                        break
                    sent += 1
                continue
            except OSError:
                break
            if not chunk:
                break
            self.received += chunk
        self.closed.set()

    def answer(self) -> tuple[int, dict]:
        """The status and JSON body the server answered with."""
        head, _, body = self.received.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), json.loads(body)


def _still_serving(url: str, registered) -> bool:
    answer = httpx.post(f"{url}/predict", json=registered.records(0), timeout=PATIENCE)
    return answer.status_code == 200


def test_slow_clients_are_timed_out_and_others_are_served(registered):
    with CliServer(registered.settings, "churn@champion", "--no-log",
                   "--read-timeout", str(READ_TIMEOUT)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        body = json.dumps(registered.records(0)).encode()
        head = (f"POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                f"x-request-id: slow-body\r\ncontent-length: {len(body)}\r\n\r\n").encode()
        request_line = b"POST /predict HTTP/1.1\r\nhost: x\r\nx-padding: " + b"a" * 100_000
        with Dripper(port, head, body) as slow_body, \
                Dripper(port, b"", request_line) as slow_headers, \
                Dripper(port, b"") as silent:
            assert _still_serving(server.url, registered)  # while they hang on
            for client in (slow_body, slow_headers, silent):
                assert client.closed.wait(PATIENCE), "the server never let go of it"
            assert _still_serving(server.url, registered)
        status, answer = slow_body.answer()
        assert status == 408, slow_body.received
        assert answer["code"] == "REQUEST_TIMEOUT" and answer["request_id"] == "slow-body"
        assert set(answer) == {"error", "code", "hint", "request_id"}
        assert slow_headers.received == silent.received == b""


def test_requests_in_pieces_are_answered_and_huge_headers_are_not_read(registered):
    """Within the timeout, a request that arrives in pieces is answered and its keep-alive
    connection serves the next one; headers over 64 KiB close the connection at once
    (the timeout here is longer than the test waits)."""
    with CliServer(registered.settings, "churn@champion", "--no-log",
                   "--read-timeout", str(10 * PATIENCE)) as server, \
            httpx.Client(base_url=server.url, timeout=PATIENCE) as client:
        def pieces():
            body = json.dumps(registered.records(0)).encode()
            yield body[:10]
            yield body[10:]

        first = client.post("/predict", content=pieces(),
                            headers={"content-type": "application/json"})
        second = client.post("/predict", json=registered.records(1))
        assert first.status_code == 200 and second.status_code == 200
        port = int(server.url.rsplit(":", 1)[1])
        huge = b"POST /predict HTTP/1.1\r\nhost: x\r\nx-padding: " + b"a" * 80_000
        with Dripper(port, huge) as huge_headers:
            assert huge_headers.closed.wait(PATIENCE), "the server kept reading headers"
        assert huge_headers.received == b""
