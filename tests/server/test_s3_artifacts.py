"""Artifacts through a team server whose store is S3 (a real S3 server on 127.0.0.1): through
the server, or, with ``server_presigned_urls``, straight between the client and the store
by signed URLs, where an upload still becomes a blob only once the server checked it."""

from pathlib import Path

import httpx
import pytest

from gannet.bootstrap import build
from gannet.client.client import GannetClient
from gannet.core.digests import digest_bytes
from gannet.testing.server import running_server


@pytest.fixture
def s3_settings(settings, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return settings.replace(artifacts_url=s3_endpoint.url())


def route_count(url: str, route: str) -> float:
    scrape = httpx.get(f"{url}/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in scrape.splitlines()
               if line.startswith("gannet_server_requests_total") and f'route="{route}"' in line)


@pytest.mark.parametrize("signed", [False, True], ids=["through-server", "presigned"])
def test_artifacts_round_trip_with_an_s3_store(s3_settings, tmp_path: Path, signed):
    services = build(s3_settings.replace(server_presigned_urls=signed))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x01" * 300_000)
    (folder / "config.json").write_text('{"layers": 3}')
    try:
        with running_server(services) as url:
            client = GannetClient(s3_settings.replace(uri=url))
            run_id = client.create_run("0").run_id
            client.log_artifacts(run_id, folder, "model")
            client.log_text(run_id, "on s3", "notes.txt")
            assert [f.path for f in client.list_artifacts(run_id, "model")] == [
                "model/config.json", "model/weights.bin"]
            out = client.download_artifacts(run_id, "", tmp_path / "out")
            assert (out / "model" / "weights.bin").read_bytes() == b"\x01" * 300_000
            assert client.read_artifact(run_id, "notes.txt") == b"on s3"
            client.close()
            through_server = route_count(url, "/api/v1/blobs/{digest}")
            committed = route_count(url, "/api/v1/staged-blobs/{digest}")
    finally:
        services.close()
    assert (through_server, committed) == ((0, 3) if signed else (3, 0))


def test_a_signed_upload_of_other_bytes_never_becomes_the_blob(s3_settings):
    services = build(s3_settings.replace(server_presigned_urls=True))
    claimed = digest_bytes(b"the model")
    try:
        with running_server(services) as url, httpx.Client(base_url=url) as http:
            run_id = http.post("/api/v1/runs", json={"experiment_id": "0"}).json()[
                "run"]["info"]["run_id"]
            plan = http.post(f"/api/v1/runs/{run_id}/artifacts/missing",
                             json={"digests": [claimed]}).json()
            upload = plan["uploads"][claimed]
            assert httpx.put(upload["url"], content=b"something else").status_code == 200
            refused = http.post(f"/api/v1/staged-blobs/{claimed}",
                                json={"staged": upload["staged"]})
            assert refused.status_code == 400 and "nothing was stored" in refused.json()["error"]
            assert not services.blobs.exists(claimed)
            again = http.post(f"/api/v1/staged-blobs/{claimed}",
                              json={"staged": upload["staged"]})
            assert again.status_code == 404  # the staged bytes are gone too
            bad = http.post(f"/api/v1/staged-blobs/{claimed}", json={"staged": "../x"})
            assert bad.status_code == 400 and "staging token" in bad.json()["error"]
    finally:
        services.close()
    assert list(services.blobs.iter_temporary()) == []
