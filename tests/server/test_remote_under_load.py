"""The remote SDK under load and failure, over real sockets: many clients at once, answers
lost on the way back, a server killed mid-upload, a server restarted while clients log.
Nothing is lost, nothing is stored twice."""

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from gannet.client.client import GannetClient
from gannet.core.errors import StoreError
from gannet.testing.server import ServerProcess


def port_of(server: ServerProcess) -> int:
    return int(server.url.rsplit(":", 1)[1])


def run_points(services, run_id: str, key: str) -> list[int]:
    """The steps stored for ``key`` of the run, sorted (read from the store itself)."""
    return sorted(m.step for m in services.tracking.get_metric_history(run_id, key))


def test_32_clients_logging_at_once_lose_and_duplicate_nothing(settings, services):
    with ServerProcess(settings, "--no-auth") as server:
        remote = settings.replace(uri=server.url)
        logged: dict[str, int] = {}
        failures: list[BaseException] = []

        def client_work(index: int) -> None:
            try:
                client = GannetClient(remote)
                run = client.create_run("0", run_name=f"client-{index}")
                deadline, step = time.monotonic() + 3, 0
                while time.monotonic() < deadline:
                    client.log_metric(run.run_id, "m", float(step), step=step)
                    step += 1
                    if step % 10 == 0:
                        time.sleep(0.01)  # about 1,000 points a second per client
                    if step % 500 == 0:
                        client.set_tag(run.run_id, "progress", str(step))
                client.log_param(run.run_id, "client", index)
                client.set_terminated(run.run_id)
                client.close()
                logged[run.run_id] = step
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=client_work, args=(i,)) for i in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == []
    assert len(logged) == 32
    for run_id, count in logged.items():
        assert run_points(services, run_id, "m") == list(range(count))
        run = services.tracking.get_run(run_id)
        assert run.info.status == "FINISHED" and "client" in run.data.params
    assert sum(logged.values()) > 32 * 100


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that, for each of ``cut`` (request line fragments), lets
    the first such request reach the server and the server answer, then closes the
    client's connection without passing the answer on: the write happened, the client
    cannot know."""

    def __init__(self, port: int, cut: list[str]) -> None:
        self.target = ("127.0.0.1", port)
        self.cut = list(cut)
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.sockets: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            cutting = threading.Event()
            threading.Thread(target=self._up, args=(client, server, cutting), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, cutting),
                             daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, cutting: threading.Event) -> None:
        while data := _recv(client):
            with self.lock:
                fragment = next((f for f in self.cut if f.encode() in data), None)
                if fragment is not None:
                    self.cut.remove(fragment)
                    cutting.set()
            server.sendall(data)
        server.close()

    def _down(self, server: socket.socket, client: socket.socket,
              cutting: threading.Event) -> None:
        while data := _recv(server):
            if cutting.is_set():  # the server answered: drop the answer and the connection
                self.cuts += 1
                break
            client.sendall(data)
        for sock in (client, server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            sock.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 16)
    except OSError:
        return b""


def test_requests_whose_answers_are_lost_are_retried_and_land_once(settings, services,
                                                                   tmp_path: Path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(3 << 20))
    with ServerProcess(settings, "--no-auth") as server:
        proxy = CuttingProxy(port_of(server), [
            "POST /api/v1/experiments ", "POST /api/v1/runs ", "/write-pending", "/log-batch",
            "PUT /api/v1/blobs/", "POST /api/v1/runs/", "PATCH /api/v1/runs/"])
        try:
            client = GannetClient(settings.replace(uri=proxy.url))
            experiment_id = client.create_experiment("cut")
            run = client.create_run(experiment_id, run_name="cut")
            for step in range(100):
                client.log_metric(run.run_id, "loss", 1.0 / (step + 1), step=step)
            client.flush()
            client.log_batch(run.run_id, params={"lr": 0.1}, tags={"t": "x"})
            client.log_artifact(run.run_id, weights, "model")
            client.set_terminated(run.run_id)
            client.close()
        finally:
            proxy.close()
    assert proxy.cuts >= 6 and proxy.cut == []
    assert services.tracking.get_experiment_by_name("cut").experiment_id == experiment_id
    assert [r.info.run_id for r in services.tracking.search_runs([experiment_id]).items] == [
        run.run_id]
    assert run_points(services, run.run_id, "loss") == list(range(100))
    stored = services.tracking.get_run(run.run_id)
    assert stored.data.params == {"lr": "0.1"} and stored.info.status == "FINISHED"
    assert services.tracking.read_artifact(run.run_id, "model/weights.bin") == \
        weights.read_bytes()


def test_a_server_restarted_while_clients_log_loses_and_duplicates_nothing(settings, services):
    with ServerProcess(settings, "--no-auth") as first:
        port, remote = port_of(first), settings.replace(uri=first.url)
        clients = [GannetClient(remote) for _ in range(4)]
        runs = [client.create_run("0").run_id for client in clients]
        acknowledged = [0] * len(clients)
        stop = threading.Event()

        def client_work(index: int) -> None:
            client, step = clients[index], 0
            while not stop.is_set():
                try:
                    client.log_metric(runs[index], "m", float(step), step=step)
                except StoreError:  # the buffer is full and the server down: not kept
                    time.sleep(0.05)
                    continue
                step += 1
                if step % 20 == 0:
                    time.sleep(0.005)
                if step % 500 == 0:
                    try:
                        client.flush()
                        acknowledged[index] = step
                    except StoreError:  # the server is down: the points wait in the buffer
                        pass
            client.flush()
            acknowledged[index] = step

        threads = [threading.Thread(target=client_work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        first.stop(signal.SIGKILL)
    time.sleep(9.0)  # longer than the transport's retries (7.7 s at most): batches are unsure
    with ServerProcess(settings, "--no-auth", "--port", str(port)):
        time.sleep(2.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        resent = sum(client.services.tracking.batches.resent for client in clients)
        for client in clients:
            client.close()
    assert resent > 0  # batches whose fate was unknown were sent again under their ids
    for run_id, count in zip(runs, acknowledged, strict=True):
        assert count > 0
        assert run_points(services, run_id, "m") == list(range(count))


@pytest.mark.slow
def test_a_server_killed_mid_upload_leaves_no_blob_and_the_next_upload_works(settings,
                                                                              services,
                                                                              tmp_path: Path):
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(768 << 20)  # sparse: read fast, stored whole
        out.write(os.urandom(1 << 20))
    tmp = Path(settings.artifacts_url) / "tmp"
    with ServerProcess(settings, "--no-auth") as server:
        remote = settings.replace(uri=server.url)
        client = GannetClient(remote)
        run_id = client.create_run("0").run_id
        client.close()
        done: list[BaseException | None] = []

        def upload() -> None:
            uploader = GannetClient(remote)
            try:
                uploader.log_artifact(run_id, big)
                done.append(None)
            except BaseException as exc:
                done.append(exc)
            finally:
                uploader.close()

        uploader = threading.Thread(target=upload)
        uploader.start()
        deadline = time.monotonic() + 120
        while not any(p.stat().st_size > 32 << 20 for p in tmp.glob("*")):
            assert time.monotonic() < deadline and not done, "the upload never started"
            time.sleep(0.01)
        server.stop(signal.SIGKILL)
        assert services.tracking.list_artifacts(run_id) == []
        assert list(services.blobs.iter_digests()) == []  # a half file is never a blob
        uploader.join(timeout=120)
    with ServerProcess(settings, "--no-auth") as again:
        client = GannetClient(settings.replace(uri=again.url))
        client.log_artifact(run_id, big)
        out = client.download_artifacts(run_id, "big.bin", tmp_path / "out")
        assert out.stat().st_size == big.stat().st_size
        client.close()
    assert [f.path for f in services.tracking.list_artifacts(run_id)] == ["big.bin"]
