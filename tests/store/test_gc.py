"""``gannet gc``: what was deleted long enough ago goes, with its unique blobs; nothing a
live record references ever does, with writers running, on SQLite and PostgreSQL, on a
local folder and on S3."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.client.client import GannetClient
from gannet.core.errors import NotFound

runner = CliRunner()


@pytest.fixture(params=["local", "s3"])
def stores(request, settings, monkeypatch):
    """Settings whose artifacts are in a local folder, or on a real S3 endpoint."""
    if request.param == "local":
        return settings
    endpoint = request.getfixturevalue("s3_endpoint")
    for name, value in (
        ("AWS_ENDPOINT_URL", endpoint.endpoint_url),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    return settings.replace(artifacts_url=endpoint.url())


@pytest.fixture
def client(stores):
    client = GannetClient(stores)
    yield client
    client.close()


def gc(stores, *args: str) -> dict:
    """``gannet gc --json ...`` against the test's stores; the report it printed."""
    options = ["--home", str(stores.home), "--metadata-url", stores.metadata_url,
               "--artifacts-url", stores.artifacts_url]
    result = runner.invoke(app, [*options, "gc", "--json", *args], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def blobs(client) -> set[str]:
    return {found.name for found in client.services.blobs.iter_blobs()}


def run_with(client, **texts: str) -> str:
    run = client.create_run("0")
    for name, text in texts.items():
        client.log_text(run.run_id, text, f"{name}.txt")
    return run.run_id


def digest_of(client, run_id: str, path: str) -> str:
    [found] = [f for f in client.list_artifacts(run_id) if f.path == path]
    return found.digest


def test_a_deleted_run_goes_after_its_grace_with_its_unique_blobs_never_shared_ones(
    client, stores
):
    doomed = run_with(client, shared="the same bytes", unique="only the doomed run has these")
    kept = run_with(client, shared="the same bytes", mine="only the kept run has these")
    unique = digest_of(client, doomed, "unique.txt")
    shared = digest_of(client, doomed, "shared.txt")
    client.delete_run(doomed)

    early = gc(stores)  # default: deleted longer ago than 1d
    assert early["purged"]["runs"] == 0 and early["blobs_deleted"] == 0
    client.restore_run(doomed)  # still recoverable within the grace period
    client.delete_run(doomed)

    report = gc(stores, "--older-than", "0s")
    assert report["purged"]["runs"] == 1
    assert report["blobs_deleted"] >= 1 and report["bytes_freed"] >= len("only the doomed")
    assert unique not in blobs(client) and shared in blobs(client)
    with pytest.raises(NotFound):
        client.get_run(doomed)
    assert client.read_artifact(kept, "shared.txt") == b"the same bytes"
    assert client.read_artifact(kept, "mine.txt") == b"only the kept run has these"
    assert gc(stores, "--older-than", "0s")["blobs_deleted"] == 0  # nothing left to do


def test_a_dry_run_reports_what_would_go_and_changes_nothing(client, stores):
    doomed = run_with(client, unique="bytes nobody else has")
    client.delete_run(doomed)
    before = blobs(client)
    report = gc(stores, "--older-than", "0s", "--dry-run")
    assert report["dry_run"] is True
    assert report["purged"]["runs"] == 1 and report["blobs_deleted"] >= 1
    assert blobs(client) == before
    assert client.get_run(doomed).info.lifecycle_stage == "deleted"


def _package(tmp_path: Path, name: str, weights: bytes) -> Path:
    from tests_gc_models import Constant

    from gannet.models import save_model

    folder = tmp_path / name
    save_model(Constant(weights), folder)
    return folder


@pytest.fixture
def packages(tmp_path, monkeypatch):
    """Model packages of a tiny Python class (importable from a module on sys.path)."""
    module = tmp_path / "tests_gc_models.py"
    module.write_text(
        "class Constant:\n"
        "    def __init__(self, weights):\n"
        "        self.weights = weights\n"
        "    def predict(self, data):\n"
        "        return [len(self.weights)] * len(data)\n"
        "    def save(self, path):\n"
        "        (path / 'weights.bin').write_bytes(self.weights)\n"
        "    @classmethod\n"
        "    def load(cls, path):\n"
        "        return cls((path / 'weights.bin').read_bytes())\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return lambda name, weights: _package(tmp_path, name, weights)


def test_a_deleted_model_version_frees_its_package_and_its_number_stays_taken(
    client, stores, packages
):
    client.register_model(packages("one", b"weights of one"), "m")
    two = client.register_model(packages("two", b"weights of two, deleted"), "m")
    package = two.package_digest
    client.delete_model_version("m", 2)
    assert package in blobs(client)
    assert gc(stores)["blobs_deleted"] == 0  # within the grace period
    report = gc(stores, "--older-than", "0s")
    assert report["purged"]["model_versions"] == 1
    assert package not in blobs(client)
    assert client.register_model(packages("three", b"weights of three"), "m").version == 3
    assert client.load_model("m/1", allow_unsigned=False).predict([0]) == [14]
    assert gc(stores, "--older-than", "0s")["purged"]["model_versions"] == 0


def test_a_deleted_registered_model_keeps_its_packages_for_the_grace_period(
    client, stores, packages
):
    version = client.register_model(packages("p", b"weights of a model deleted whole"), "gone")
    client.delete_registered_model("gone")
    assert gc(stores)["blobs_deleted"] == 0
    assert version.package_digest in blobs(client)
    gc(stores, "--older-than", "0s")
    assert version.package_digest not in blobs(client)


def test_stale_temporary_uploads_go_fresh_ones_stay(client, stores):
    blob_store = client.services.blobs
    run_with(client, anything="so that the store exists")
    path = f"{blob_store.root}/tmp/left-by-a-dead-writer"
    blob_store.fs.pipe_file(path, b"half an upload")
    assert gc(stores)["temporary_deleted"] == 0  # younger than a day: may be in flight
    report = gc(stores, "--older-than", "0s")
    assert report["temporary_deleted"] == 1
    assert report["temporary_bytes_freed"] == len(b"half an upload")
    assert [found.name for found in blob_store.iter_temporary()] == []


def test_a_missing_blob_is_reported_and_the_rest_is_collected(client, stores):
    kept = run_with(client, lost="bytes that vanish behind gannet's back")
    doomed = run_with(client, unique="bytes of a deleted run")
    lost = digest_of(client, kept, "lost.txt")
    client.services.blobs.delete(lost)
    client.delete_run(doomed)
    report = gc(stores, "--older-than", "0s")
    assert report["missing"] == [lost]
    assert report["purged"]["runs"] == 1 and report["blobs_deleted"] >= 1


INTERRUPTED = """
import os, signal, sys
from gannet.bootstrap import build
from gannet.core.settings import Settings

services = build(Settings.load(home=sys.argv[1], metadata_url=sys.argv[2],
                               artifacts_url=sys.argv[3], progress=False))

def die_after_the_first_batch(done, total):
    os.kill(os.getpid(), signal.SIGKILL)

services.gc.collect(0, progress=die_after_the_first_batch)
"""


@pytest.mark.slow
def test_a_collection_killed_half_way_is_finished_by_a_rerun(client, stores, tmp_path):
    keep = run_with(client, **{f"k{i}": f"kept {i}" for i in range(5)})
    doomed = client.create_run("0")
    for i in range(600):
        client.log_text(doomed.run_id, f"doomed blob {i}", f"d/{i}.txt")
    client.delete_run(doomed.run_id)
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    killed = subprocess.run(
        [sys.executable, str(script), str(stores.home), stores.metadata_url,
         stores.artifacts_url],
        capture_output=True, env={**os.environ}, timeout=300,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    left = len(blobs(client))
    assert 5 < left < 600  # some went, some did not
    report = gc(stores, "--older-than", "0s")
    assert report["missing"] == []
    assert len(blobs(client)) <= 6  # the kept run's five (and a tree manifest at most)
    for i in range(5):
        assert client.read_artifact(keep, f"k{i}.txt") == f"kept {i}".encode()


def test_no_blob_goes_while_a_writer_holds_a_lease(client, stores):
    """A writer that found a blob already stored holds its lease until its reference is
    committed; until then the collector leaves every candidate alone."""
    from gannet.bootstrap import build
    from gannet.store.gc import BlobLeases

    blob_store = client.services.blobs
    orphan = blob_store.put_bytes(b"stored, then found again by a writer").digest
    uploading = f"{blob_store.root}/tmp/an-upload-in-flight"
    blob_store.fs.pipe_file(uploading, b"the first bytes of a big file")
    impatient = build(stores.replace(lock_timeout=0.3))  # waits 0.3 s for writers
    try:
        with BlobLeases(client.services.metadata).hold():
            report = impatient.gc.collect(0)
            assert report.skipped_busy >= 2 and report.blobs_deleted == 0
            assert report.temporary_deleted == 0
            assert orphan in blobs(client)
            assert [found.name for found in blob_store.iter_temporary()] == [uploading]
        report = impatient.gc.collect(0)
        assert report.blobs_deleted >= 1 and orphan not in blobs(client)
        assert report.temporary_deleted == 1
    finally:
        impatient.close()


@pytest.mark.slow
def test_collections_while_writers_reuse_unreferenced_blobs_lose_nothing(client, stores):
    """The race a write lease closes: a writer finds a blob already stored (so it does not
    write it again) just as the collector decides nobody references it; the writer's
    reference must win. Two writers log the same few texts in runs that come and go while
    collections run back to back; every live run's artifacts must stay readable."""
    texts = [f"content {i} shared by runs that come and go" for i in range(3)]
    live: list[tuple[str, str]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer(offset: int) -> None:
        try:
            i = offset
            while not stop.is_set():
                run = client.create_run("0")
                client.log_text(run.run_id, texts[i % 3], "a.txt")
                if i % 2:
                    client.delete_run(run.run_id)  # its blob is unreferenced again
                else:
                    live.append((run.run_id, texts[i % 3]))
                i += 1
                # a pause now and then: two writers that never stop would leave the
                # collector, which deletes only while no writer holds a lease, no gap
                stop.wait(0.02)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    collector = client.services.gc
    collections = 0
    deadline = time.monotonic() + 120  # only a bound: the loop ends when there was enough
    while (collections < 10 or len(live) < 20) and time.monotonic() < deadline and not failures:
        collector.collect(0)
        collections += 1
    stop.set()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert collections >= 10 and len(live) >= 20
    lost = [
        run_id for run_id, text in live if client.read_artifact(run_id, "a.txt") != text.encode()
    ]
    assert lost == []
