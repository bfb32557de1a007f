"""Datasets through the team server: ``gannet.data`` and ``gannet data`` with ``GANNET_URI``
behave as embedded (each SDK test runs both ways), only missing blobs are uploaded, files
come down verified (from a local or an S3 artifact store), roles hold (a reader cannot
add), errors come in the one envelope, and ``gannet data push`` copies an offline version
to the server."""

import contextlib
import json
import os
from pathlib import Path

import httpx
import pandas as pd
import pytest
from test_auth import team  # noqa: F401  (the fixture: users, projects, a server)
from typer.testing import CliRunner

from gannet.bootstrap import build
from gannet.cli.app import app
from gannet.core.errors import NotFound, PermissionDenied
from gannet.remote import RemoteServices


@pytest.fixture
def sdk(sdk_anywhere):
    return sdk_anywhere


def _data(sdk):
    from gannet.client import fluent

    return fluent.get_client().services.data


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def test_a_frame_goes_in_and_comes_out_the_same_both_ways(sdk, backend):
    frame = pd.DataFrame({"id": [1, 2, 3], "x": [0.5, 1.5, 2.5]})
    first = sdk.data.add(frame, name="frame", message="three rows", tags=["prod"])
    assert first.created and first.version.ref == "frame@1"
    assert first.version.columns == ("id", "x") and first.version.tags == ("prod",)
    assert not sdk.data.add(frame.copy(), name="frame").created
    pd.testing.assert_frame_equal(sdk.data.open("frame@prod", as_="pandas"), frame)
    assert sdk.data.resolve("frame").manifest.total_size == first.version.size
    assert first.version.manifest == sdk.data.resolve("frame@1").manifest
    data = _data(sdk)
    assert type(data).__name__ == ("RemoteData" if backend == "remote" else "DataService")


def test_a_run_records_the_versions_it_used_both_ways(sdk):
    sdk.data.add(pd.DataFrame({"x": [0.0, 1.0]}), name="train")
    with sdk.start_run() as run:
        assert sdk.log_input("train@1", context="training").ref == "train@1"
    usage = _data(sdk).usage("train@1")
    assert [(r["run_id"], r["context"]) for r in usage.runs] == [(run.info.run_id, "training")]
    assert [d["dataset_version"] for d in _data(sdk).usage(f"runs:/{run.info.run_id}").datasets
            ] == ["train@1"]


def test_versions_tags_diff_search_and_delete_both_ways(sdk, tmp_path):
    data = _data(sdk)
    src = _folder(tmp_path / "src", {"a.csv": b"id,v\n1,1\n2,2\n", "notes/readme.txt": b"hi"})
    data.add(src, "tables", message="first")
    (src / "a.csv").write_bytes(b"id,v\n1,1\n2,3\n3,3\n")
    (src / "b.txt").write_bytes(b"new")
    second = data.add(src, "tables", message="second").version
    assert [v.version for v in data.log("tables")] == [2, 1]
    assert data.tag("tables@1", "golden").tags == ("golden",)
    assert data.resolve("tables@golden").version == 1
    diff = data.diff("tables@1", "tables@2", key=["id"])
    assert [c.path for c in diff.added] == ["b.txt"] and [c.path for c in diff.changed] == [
        "a.csv"]
    assert diff.tables[0]["rows_added"] == 1 and diff.tables[0]["rows_changed"] == 1
    assert [d.name for d in data.search(column="v")] == ["tables"]
    described = data.describe("tables", description="two tables", owner="ops")
    assert described.owner == "ops" and data.get_dataset("tables").latest.ref == second.ref
    assert [d.name for d in data.list_datasets()] == ["tables"]
    data.delete_tag("tables", "golden")
    with pytest.raises(NotFound, match="tables@golden"):
        data.resolve("tables@golden")
    assert data.delete("tables@2").ref == "tables@2"
    assert data.resolve("tables@latest").version == 1
    assert [v.version for v in data.log("tables", deleted=True)] == [2, 1]


def test_checkout_and_open_write_verified_files_both_ways(sdk, tmp_path):
    data = _data(sdk)
    src = _folder(tmp_path / "src", {"x/1.bin": b"1" * 5000, "2.bin": b"2" * 10})
    data.add(src, "bins")
    done = data.checkout("bins@1", tmp_path / "out")
    assert done.written == 2 and (tmp_path / "out" / "x" / "1.bin").read_bytes() == b"1" * 5000
    again = data.checkout("bins@1", tmp_path / "out", force=True)
    assert again.present == 2 and again.written == 0
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep")
    with pytest.raises(sdk.GannetError, match="not empty"):
        data.checkout("bins@1", tmp_path / "busy")
    path = data.local_path("bins")
    assert sorted(p.name for p in path.rglob("*.bin")) == ["1.bin", "2.bin"]
    assert (path / "2.bin").stat().st_mode & 0o222 == 0  # the shared cache is read-only


def test_only_the_blobs_the_server_lacks_are_sent(settings, tmp_path):
    server = build(settings)
    src = _folder(tmp_path / "src", {f"f{i}.txt": f"file {i}".encode() for i in range(5)})
    for path in src.iterdir():  # older than the stat cache's racy window
        os.utime(path, ns=(path.stat().st_mtime_ns - 10**10,) * 2)
    from gannet.testing.server import running_server

    try:
        with running_server(server) as url, _remote(settings.replace(
                uri=url, home=tmp_path / "client")) as remote:
            first = remote.data.add(src, "five")
            assert first.created and first.hashed == 5
            stored = set(server.blobs.iter_digests())
            (src / "f0.txt").write_text("changed")
            second = remote.data.add(src, "five")
            assert second.created and second.hashed == 1  # the stat cache skipped four
            assert len(set(server.blobs.iter_digests()) - stored) == 2  # the file, the manifest
            assert not remote.data.add(src, "five").created
            assert server.data.open("five@2", as_="path").joinpath("f0.txt").read_text() == (
                "changed")
    finally:
        server.close()


@contextlib.contextmanager
def _remote(settings):
    remote = RemoteServices(settings)
    try:
        yield remote
    finally:
        remote.close()


def test_a_reader_reads_but_cannot_add_and_nothing_is_stored(team, settings, services,  # noqa: F811
                                                              tmp_path):
    src = _folder(tmp_path / "src", {"a.txt": b"alice's data"})
    with _remote(settings.replace(uri=team.url, token=team.alice, home=tmp_path / "alice")) \
            as alice, _remote(settings.replace(uri=team.url, token=team.rita,
                                               home=tmp_path / "rita")) as rita:
        assert alice.data.add(src, "shared").version.ref == "shared@1"
        assert (rita.data.local_path("shared@1") / "a.txt").read_bytes() == b"alice's data"
        assert [d.name for d in rita.data.list_datasets()] == ["shared"]
        before = set(services.blobs.iter_digests())
        (src / "b.txt").write_bytes(b"rita's")
        with pytest.raises(PermissionDenied, match="editor role"):
            rita.data.add(src, "shared")
        with pytest.raises(PermissionDenied):
            rita.data.tag("shared@1", "mine")
        with pytest.raises(PermissionDenied):
            rita.data.delete("shared@1")
        assert set(services.blobs.iter_digests()) == before
        assert [v.version for v in services.data.log("shared")] == [1]
    with httpx.Client(base_url=team.url) as anonymous:
        refused = anonymous.get("/api/v1/datasets")
        assert refused.status_code == 401 and refused.json()["code"] == "UNAUTHENTICATED"


def test_bad_requests_answer_in_the_one_envelope(http, services):
    missing = "blake3:" + "0" * 64
    body = {"kind": "file", "files": [{"path": "a.txt", "digest": missing, "size": 3}]}
    answer = http.post("/api/v1/datasets/churn/versions", json=body)
    assert answer.status_code == 409, answer.text
    assert set(answer.json()) == {"error", "code", "hint", "request_id"}
    assert answer.json()["code"] == "INVALID_STATE" and "no version was made" in answer.json()[
        "error"]
    bad = http.post("/api/v1/datasets/bad%20name!/versions", json=body).json()
    assert bad["code"] == "INVALID_PARAMETER_VALUE" and "dataset name" in bad["error"]
    escape = {"kind": "folder", "files": [{"path": "../x", "digest": missing, "size": 3}]}
    assert http.post("/api/v1/datasets/churn/versions", json=escape).status_code == 400
    assert http.get("/api/v1/datasets/nope/versions/1").json()["code"] == (
        "RESOURCE_DOES_NOT_EXIST")
    wrong = http.post("/api/v1/dataset-files/missing", json={"digests": ["md5:1"]})
    assert wrong.status_code == 400
    assert services.data.list_datasets() == []
    paths = http.get("/openapi.json").json()["paths"]
    schema = paths["/api/v1/datasets/{name}/versions"]["post"]["requestBody"]
    assert "NewVersion" in json.dumps(schema)


def test_the_cli_works_remotely_and_push_copies_an_offline_version(open_server, settings,
                                                                   services, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    offline = settings.replace(home=tmp_path / "laptop",
                               metadata_url=f"sqlite:///{tmp_path / 'laptop.db'}",
                               artifacts_url=str(tmp_path / "laptop-artifacts"))
    laptop = build(offline)
    src = _folder(tmp_path / "src", {"a.csv": b"id\n1\n"})
    laptop.data.add(src, "field", message="collected offline", tags=["raw"])
    laptop.close()
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"GANNET_URI": open_server, "COLUMNS": "200", "NO_COLOR": "1"})
    stores = ["--home", str(offline.home), "--metadata-url", offline.metadata_url,
              "--artifacts-url", offline.artifacts_url]

    def gannet(*args: str):
        result = CliRunner().invoke(app, [*stores, *args], env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    pushed = gannet("data", "push", "field@raw", "--json")
    assert pushed["ref"] == "field@1" and pushed["created"] and pushed["sent_files"] == 1
    assert not gannet("data", "push", "field@1", "--json")["created"]
    assert services.data.resolve("field@raw").message == "collected offline"
    assert [v["ref"] for v in gannet("data", "log", "field", "--json")] == ["field@1"]
    added = gannet("data", "add", str(src), "--name", "other", "--json")
    assert added["ref"] == "other@1" and services.data.resolve("other").file_count == 1
    pulled = gannet("data", "pull", "other@1", "--json")
    assert (Path(pulled["path"]) / "a.csv").read_bytes() == b"id\n1\n"
    assert [d["name"] for d in gannet("data", "search", "--column", "id", "--json")] == [
        "field", "other"]
    (tmp_path / "suite.yaml").write_text("checks:\n  - {check: row_count, min: 1}\n")
    gannet("data", "add", str(src / "a.csv"), "--name", "table", "--json")
    checked = gannet("data", "validate", "table@1", "--suite", "suite.yaml", "--json")
    assert checked["passed"] is True
    assert [r.report.passed for r in services.validation.search_data_validations()] == [True]


def test_a_server_over_s3_takes_and_serves_versions(settings, s3_endpoint, monkeypatch,
                                                    tmp_path):
    for name, value in (("AWS_ENDPOINT_URL", s3_endpoint.endpoint_url),
                        ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    from gannet.testing.server import running_server

    server = build(settings.replace(artifacts_url=s3_endpoint.url()))
    src = _folder(tmp_path / "src", {"a.txt": b"alpha", "sub/b.bin": b"\x00" * 70_000})
    try:
        with running_server(server) as url, _remote(settings.replace(
                uri=url, home=tmp_path / "client")) as remote:
            assert remote.data.add(src, "on-s3").created
            out = remote.data.checkout("on-s3@1", tmp_path / "out")
            assert out.written == 2 and (tmp_path / "out" / "sub" / "b.bin").read_bytes() == (
                b"\x00" * 70_000)
        assert server.data.resolve("on-s3").file_count == 2
    finally:
        server.close()
