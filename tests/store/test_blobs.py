"""The blob store contract on a local folder and on S3 (moto's server over real HTTP),
plus what only one backend can show: folders, URLs, progress, an unreachable endpoint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gannet.core.digests import digest_bytes
from gannet.core.errors import InvalidArgument, StoreError
from gannet.store.blobs import BlobStore, Manifest, ManifestEntry
from gannet.store.blobs.transfer import MANY
from gannet.testing.blob_contract import BlobStoreContract, stored_objects
from gannet.testing.s3 import S3Endpoint


class TestLocalBlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, tmp_path_factory: pytest.TempPathFactory) -> BlobStore:
        return BlobStore(str(tmp_path_factory.mktemp("store")), progress=False).open()


class TestS3BlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, s3_endpoint: S3Endpoint) -> BlobStore:
        return BlobStore(
            s3_endpoint.url(), storage_options=s3_endpoint.storage_options, progress=False,
            threads=4,
        ).open()


def test_the_constructor_touches_nothing(tmp_path: Path):
    store = BlobStore(str(tmp_path / "store"))
    assert not (tmp_path / "store").exists()
    store.open()
    assert (tmp_path / "store" / "blobs").is_dir()
    assert (tmp_path / "store" / "tmp").is_dir()


def test_a_file_url_and_a_path_are_the_same_store(tmp_path: Path):
    ref = BlobStore(str(tmp_path / "store"), progress=False).put_bytes(b"same place")
    by_url = BlobStore(f"file://{tmp_path / 'store'}", progress=False)
    assert by_url.get_bytes(ref.digest) == b"same place"
    blob = tmp_path / "store" / "blobs" / ref.digest[7:9] / ref.digest[9:]
    assert blob.read_bytes() == b"same place"


def test_many_files_with_a_progress_bar(tmp_path: Path):
    paths = []
    for i in range(MANY + 1):
        paths.append(tmp_path / "in" / f"{i}.txt")
        paths[-1].parent.mkdir(exist_ok=True)
        paths[-1].write_bytes(b"%d" % i)
    store = BlobStore(str(tmp_path / "store"), progress=True)
    refs = store.put_files(paths)
    pairs = zip(refs, paths, strict=True)
    store.get_files([(ref.digest, tmp_path / "out" / p.name) for ref, p in pairs])
    assert all((tmp_path / "out" / p.name).read_bytes() == p.read_bytes() for p in paths)


def test_a_link_to_a_folder_is_refused(tmp_path: Path):
    (tmp_path / "src" / "real").mkdir(parents=True)
    (tmp_path / "src" / "real" / "f").write_bytes(b"x")
    os.symlink(tmp_path / "src" / "real", tmp_path / "src" / "alias")
    store = BlobStore(str(tmp_path / "store"), progress=False)
    with pytest.raises(InvalidArgument, match="link to a folder"):
        store.put_tree(tmp_path / "src")


def test_restoring_through_a_link_cannot_escape(tmp_path: Path):
    store = BlobStore(str(tmp_path / "store"), progress=False)
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "sub" / "f").write_bytes(b"x")
    ref, _ = store.put_tree(tmp_path / "src")
    (tmp_path / "dest").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "dest" / "sub")
    with pytest.raises(InvalidArgument, match="outside"):
        store.get_tree(ref.digest, tmp_path / "dest")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_s3_endpoint_says_where_and_what_to_check():
    url = "s3://nowhere/prefix"
    store = BlobStore(url, progress=False, storage_options={
        "key": "x", "secret": "x", "skip_instance_cache": True,
        "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{_closed_port()}"},
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    })
    for call in (lambda: store.put_bytes(b"x"), lambda: store.exists("blake3:" + "0" * 64)):
        with pytest.raises(StoreError) as caught:
            call()
        assert url in str(caught.value)
        assert "endpoint" in caught.value.hint and "credentials" in caught.value.hint


def test_a_missing_bucket_is_a_store_error(s3_endpoint: S3Endpoint):
    store = BlobStore("s3://no-such-bucket/x", storage_options=s3_endpoint.storage_options,
                      progress=False)
    with pytest.raises(StoreError, match="no-such-bucket"):
        store.put_bytes(b"x")
    assert stored_objects(BlobStore(s3_endpoint.url(), storage_options=s3_endpoint
                                    .storage_options).open()) == []


def test_an_aborted_s3_upload_leaves_no_multipart_upload(s3_endpoint: S3Endpoint):
    """A failed upload must not leave parts behind: S3 bills for them until aborted."""
    from gannet.testing.blob_contract import BrokenStream

    store = BlobStore(s3_endpoint.url(), storage_options=s3_endpoint.storage_options,
                      progress=False)
    with pytest.raises(InvalidArgument):
        store.put_stream(BrokenStream(good_bytes=20 << 20))
    assert store.fs.list_multipart_uploads(s3_endpoint.bucket) == []
    assert stored_objects(store) == []


def test_importing_the_blob_store_stays_light():
    code = (
        "import sys, gannet.store.blobs; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'s3fs', 'rich', 'botocore'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_a_batch_makes_its_blobs_visible_at_its_end(tmp_path: Path):
    store = BlobStore(str(tmp_path / "store"), progress=False).open()
    files = []
    for i in range(50):
        files.append(tmp_path / f"f{i}.txt")
        files[-1].write_text(f"small file {i}")
    with store.batched() as batch:
        refs = batch.put_files(files)
        inside = batch.put_bytes(b"bytes in the batch")
        assert not any(store.exists(ref.digest) for ref in [*refs, inside])  # not yet
        assert len(list(store.iter_temporary())) == 51  # written, waiting
    assert all(store.exists(ref.digest) for ref in [*refs, inside])
    assert [store.get_bytes(ref.digest) for ref in refs] == [f.read_bytes() for f in files]
    assert list(store.iter_temporary()) == []


def test_a_failed_batch_leaves_nothing(tmp_path: Path):
    store = BlobStore(str(tmp_path / "store"), progress=False).open()
    with pytest.raises(RuntimeError), store.batched() as batch:
        ref = batch.put_bytes(b"never kept")
        raise RuntimeError("the caller failed half-way")
    assert not store.exists(ref.digest)
    assert list(store.iter_temporary()) == [] and list(store.iter_blobs()) == []


def test_a_batch_cut_off_by_a_crash_names_no_blob(tmp_path: Path):
    """A process killed inside a batch leaves only temporary files (which gc removes),
    never a blob name over bytes that were not made durable."""
    root = tmp_path / "store"
    code = (
        "import os, sys\n"
        "from gannet.store.blobs import BlobStore\n"
        f"store = BlobStore({str(root)!r}, progress=False).open()\n"
        "with store.batched() as batch:\n"
        "    print(batch.put_bytes(b'cut off').digest, flush=True)\n"
        "    os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    store = BlobStore(str(root), progress=False).open()
    assert not store.exists(done.stdout.strip())
    assert list(store.iter_blobs()) == [] and len(list(store.iter_temporary())) == 1


def test_a_manifests_bytes_are_canonical_and_never_change():
    """A manifest's digest is written into dataset, run and model records: the same
    entries must give the same bytes in every release (quotes, control characters, line
    separators and non-ASCII paths included), in path order whatever the insertion order."""
    first, second = "blake3:" + "ab" * 32, "blake3:" + "0f" * 32
    entries = {
        "z": ManifestEntry(first, 1 << 40, 0),
        "b/é 😀.csv": ManifestEntry(first, 3, 0o644),
        'a/"q"\t\x01\u2028.bin': ManifestEntry(second, 0, 0o755),
    }
    body = Manifest(entries).to_bytes()
    assert body == (
        b'{"entries":{"a/\\"q\\"\\t\\u0001\xe2\x80\xa8.bin":{"digest":"' + second.encode()
        + b'","mode":493,"size":0},"b/\xc3\xa9 \xf0\x9f\x98\x80.csv":{"digest":"'
        + first.encode() + b'","mode":420,"size":3},"z":{"digest":"' + first.encode()
        + b'","mode":0,"size":1099511627776}},"format":"gannet.manifest/1"}'
    )
    assert digest_bytes(body) == (
        "blake3:d6283a2cbe89e415d82c1f44ba2421c158dd5d131a542141315e49b7236a0886")
    assert Manifest.from_bytes(body) == Manifest(entries)
    huge = Manifest({"x": ManifestEntry(first, 1 << 70, 0)})  # read from an untrusted blob
    assert Manifest.from_bytes(huge.to_bytes()) == huge
