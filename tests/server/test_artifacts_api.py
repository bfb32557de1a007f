"""Artifacts over ``/api/v1``: digests first, only missing blobs sent (streamed, verified),
then the run's files; ranged downloads; paths outside the run refused, nothing stored."""

from pathlib import Path

import pytest

from gannet.bootstrap import build
from gannet.core.digests import digest_bytes
from gannet.testing.server import running_server

DATA = bytes(range(256)) * 40  # 10 KiB


def make_run(http):
    return http.post("/api/v1/runs", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]


def stored_blobs(settings) -> list[Path]:
    return [p for p in (Path(settings.artifacts_url) / "blobs").rglob("*") if p.is_file()]


def upload(http, run_id, files: dict[str, bytes]) -> list[str]:
    """The three calls of an upload; returns the digests the server said it lacked."""
    digests = {path: digest_bytes(data) for path, data in files.items()}
    missing = http.post(f"/api/v1/runs/{run_id}/artifacts/missing",
                        json={"digests": list(digests.values())}).json()["missing"]
    for path, data in files.items():
        if digests[path] in missing:
            put = http.put(f"/api/v1/blobs/{digests[path]}", content=data)
            assert put.status_code == 201, put.text
    logged = http.post(f"/api/v1/runs/{run_id}/artifacts", json={"files": [
        {"path": path, "digest": digests[path], "size": len(data)}
        for path, data in files.items()]})
    assert logged.status_code == 200, logged.text
    return missing


def test_only_missing_blobs_are_sent_and_files_read_back_whole_or_in_ranges(http):
    run_id = make_run(http)
    assert len(upload(http, run_id, {"model/w.bin": DATA, "notes.txt": b"hi"})) == 2
    assert upload(http, make_run(http), {"copy.bin": DATA}) == []  # stored once
    listing = http.get(f"/api/v1/runs/{run_id}/artifacts").json()["files"]
    assert [(f["path"], f["is_dir"]) for f in listing] == [("model", True), ("notes.txt", False)]
    url = f"/api/v1/runs/{run_id}/artifacts/content"
    whole = http.get(url, params={"path": "model/w.bin"})
    assert whole.content == DATA and whole.headers["accept-ranges"] == "bytes"
    part = http.get(url, params={"path": "model/w.bin"}, headers={"range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == DATA[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(DATA)}"
    tail = http.get(url, params={"path": "model/w.bin"}, headers={"range": "bytes=-10"})
    assert tail.content == DATA[-10:]
    rest = http.get(url, params={"path": "model/w.bin"}, headers={"range": "bytes=10000-"})
    assert rest.content == DATA[10000:]
    outside = http.get(url, params={"path": "model/w.bin"}, headers={"range": "bytes=99999-"})
    assert outside.status_code == 416 and outside.json()["code"] == "RANGE_NOT_SATISFIABLE"
    several = http.get(url, params={"path": "notes.txt"}, headers={"range": "bytes=0-0,1-1"})
    assert several.status_code == 200 and several.content == b"hi"  # served whole
    folder = http.get(url, params={"path": "model"})
    assert folder.status_code == 404 and "no artifact file 'model'" in folder.json()["error"]


def test_bytes_that_are_not_their_digest_are_refused_and_leave_nothing(http, settings):
    claimed = digest_bytes(b"the real bytes")
    wrong = http.put(f"/api/v1/blobs/{claimed}", content=b"other bytes")
    assert wrong.status_code == 400
    assert "hashing to blake3:" in wrong.json()["error"] and "nothing was stored" in \
        wrong.json()["error"]
    short = http.put(f"/api/v1/blobs/{claimed}", content=b"the real", )
    assert short.status_code == 400
    assert http.put("/api/v1/blobs/not-a-digest", content=b"x").json()["code"] == \
        "INVALID_PARAMETER_VALUE"
    assert stored_blobs(settings) == []
    assert list((Path(settings.artifacts_url) / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("path", "says"),
    [("../escape.txt", "points outside the run's artifacts"),
     ("/etc/passwd", "points outside the run's artifacts"),
     ("a/../../b", "points outside the run's artifacts"),
     ("a\\b.txt", "contains a backslash"),
     ("a\u0000b", "contains"),
     ("", "names no file")],
)
def test_paths_outside_the_run_are_refused_precisely_and_nothing_is_logged(http, path, says):
    run_id = make_run(http)
    digest = digest_bytes(b"x")
    http.put(f"/api/v1/blobs/{digest}", content=b"x")
    refused = http.post(f"/api/v1/runs/{run_id}/artifacts", json={"files": [
        {"path": "fine.txt", "digest": digest, "size": 1},
        {"path": path, "digest": digest, "size": 1}]})
    assert refused.status_code == 400
    assert says in refused.json()["error"]
    assert http.get(f"/api/v1/runs/{run_id}/artifacts").json()["files"] == []
    read = http.get(f"/api/v1/runs/{run_id}/artifacts/content", params={"path": path or "."})
    assert read.status_code in (400, 404)


def test_files_whose_blobs_were_never_sent_are_refused(http):
    run_id = make_run(http)
    digest = digest_bytes(b"never sent")
    refused = http.post(f"/api/v1/runs/{run_id}/artifacts", json={"files": [
        {"path": "a.bin", "digest": digest, "size": 10}]})
    assert refused.status_code == 409
    assert digest in refused.json()["error"] and "PUT /api/v1/blobs" in refused.json()["hint"]
    http.put(f"/api/v1/blobs/{digest}", content=b"never sent")
    liar = http.post(f"/api/v1/runs/{run_id}/artifacts", json={"files": [
        {"path": "a.bin", "digest": digest, "size": 999}]})
    assert liar.status_code == 409  # the size must be the blob's
    gone = http.post(f"/api/v1/runs/{make_run(http)}/artifacts/missing",
                     json={"digests": ["blake3:" + "0" * 63]})
    assert gone.status_code == 400


def test_blob_uploads_are_exempt_from_the_json_body_limit(settings):
    services = build(settings.replace(server_max_body=1024))
    try:
        with running_server(services) as url:
            import httpx

            with httpx.Client(base_url=url) as http:
                big = DATA * 4
                put = http.put(f"/api/v1/blobs/{digest_bytes(big)}", content=big)
                assert put.status_code == 201 and put.json()["size"] == len(big)
                too_big = http.post("/api/v1/runs/search", json={"experiment_ids": ["0"] * 500})
                assert too_big.status_code == 413
    finally:
        services.close()


def test_an_upload_the_client_abandons_half_way_leaves_nothing(open_server, settings, http):
    import socket
    import time

    digest = digest_bytes(b"\x07" * (8 << 20))
    host, port = open_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"PUT /api/v1/blobs/{digest} HTTP/1.1\r\nhost: {host}\r\n"
                     f"content-length: {8 << 20}\r\n\r\n".encode())
        sock.sendall(b"\x07" * (1 << 20))
        time.sleep(0.3)
    tmp = Path(settings.artifacts_url) / "tmp"
    deadline = time.monotonic() + 10
    while any(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp.iterdir()) == []
    assert stored_blobs(settings) == []
    assert http.put(f"/api/v1/blobs/{digest}", content=b"\x07" * (8 << 20)).status_code == 201


def test_the_remote_upload_steps_answer_as_the_service_does(open_server, settings, services):
    import io

    from gannet.core.errors import InvalidArgument
    from gannet.remote import RemoteServices
    from gannet.store.blobs import BlobRef
    from gannet.tracking.types import FileInfo

    remote = RemoteServices(settings.replace(uri=open_server))
    try:
        for tracking, data in ((remote.tracking, b"abc" * 1000), (services.tracking, b"d" * 9)):
            run_id = tracking.create_run("0").run_id
            digest = digest_bytes(data)
            assert tracking.missing_blobs(run_id, [digest, digest]) == [digest]
            assert tracking.put_blob(digest, io.BytesIO(data), len(data)) == BlobRef(
                digest, len(data))
            assert tracking.missing_blobs(run_id, [digest]) == []
            tracking.log_artifact_files(run_id, [("a/b.bin", digest, len(data))])
            assert tracking.artifact_file(run_id, "a/b.bin") == FileInfo(
                "a/b.bin", False, len(data), digest)
            with pytest.raises(InvalidArgument, match="outside the run"):
                tracking.log_artifact_files(run_id, [("../x", digest, len(data))])
    finally:
        remote.close()
