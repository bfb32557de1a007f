"""The contract every blob store backend passes: written once, run on each backend.

Subclass ``BlobStoreContract`` in a test module and give it a ``store`` fixture returning
an opened, empty ``BlobStore``; every test below then runs on that backend::

    class TestMyBlobStore(BlobStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return BlobStore(my_url, progress=False).open()

The tests go through the public API only, with real files. Where a test needs to look
behind the API (to count stored objects, or to damage one) it uses the store's own
fsspec filesystem, as an operator or an attacker would.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from gannet.core.digests import digest_bytes, digest_file
from gannet.core.errors import IntegrityError, InvalidArgument, NotFound
from gannet.store.blobs import BlobStore, Manifest, ManifestEntry
from gannet.store.blobs.store import SMALL

MIB = 1 << 20
BAD_DIGESTS = [
    "",
    "abc",
    "blake3:xyz",
    "blake3:" + "0" * 63,
    "blake3:" + "A" * 64,
    "sha256:" + "0" * 64,
    "blake3:" + "0" * 64 + "/../x",
]


def stored_objects(store: BlobStore) -> list[str]:
    """Every object under the store's root, straight from its filesystem."""
    store.fs.invalidate_cache()
    return sorted(store.fs.find(store.root))


def temporaries(store: BlobStore) -> list[str]:
    store.fs.invalidate_cache()
    return sorted(store.fs.find(f"{store.root}/tmp"))


def write(path: Path, data: bytes, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mode is not None:
        path.chmod(mode)
    return path


class BlobStoreContract:
    """What a blob store promises, whatever holds the bytes."""

    @pytest.fixture
    def store(self) -> BlobStore:
        raise NotImplementedError("a BlobStoreContract subclass provides the store fixture")

    # -- round trips -------------------------------------------------------------------

    @pytest.mark.parametrize("data", [b"", b"hello", os.urandom(SMALL + 3)])
    def test_bytes_round_trip(self, store: BlobStore, data: bytes) -> None:
        ref = store.put_bytes(data)
        assert ref.digest == digest_bytes(data)
        assert ref.size == len(data)
        assert store.exists(ref.digest)
        assert store.size(ref.digest) == len(data)
        assert store.get_bytes(ref.digest) == data
        assert temporaries(store) == []

    @pytest.mark.parametrize("size", [0, 1000, 2 * SMALL + 12345])
    def test_file_round_trip(self, store: BlobStore, tmp_path: Path, size: int) -> None:
        source = write(tmp_path / "in.bin", os.urandom(size))
        ref = store.put_file(source)
        assert (ref.digest, ref.size) == digest_file(source)
        store.get_file(ref.digest, tmp_path / "out" / "deep" / "copy.bin")
        assert (tmp_path / "out" / "deep" / "copy.bin").read_bytes() == source.read_bytes()
        assert temporaries(store) == []

    def test_get_file_replaces_an_existing_file(self, store: BlobStore, tmp_path: Path) -> None:
        ref = store.put_bytes(b"new content")
        dest = write(tmp_path / "dest.txt", b"old content that is longer")
        store.get_file(ref.digest, dest)
        assert dest.read_bytes() == b"new content"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dest.txt"]

    @pytest.mark.parametrize("size", [0, 10, 2 * SMALL + 7])
    def test_stream_round_trip(self, store: BlobStore, size: int) -> None:
        data = os.urandom(size)
        ref = store.put_stream(io.BytesIO(data))
        assert ref.digest == digest_bytes(data)
        with store.open_blob(ref.digest) as reader:
            assert reader.read(5) == data[:5]
            assert reader.read() == data[5:]
        assert temporaries(store) == []

    def test_stream_from_a_pipe(self, store: BlobStore) -> None:
        """A pipe gives short reads and no size: the stream path must not care."""
        data = os.urandom(SMALL + MIB)
        read_end, write_end = os.pipe()

        def feed() -> None:
            with os.fdopen(write_end, "wb") as pipe:
                for start in range(0, len(data), 100_000):
                    pipe.write(data[start : start + 100_000])

        feeder = threading.Thread(target=feed)
        feeder.start()
        with os.fdopen(read_end, "rb") as pipe:
            ref = store.put_stream(pipe)
        feeder.join()
        assert ref.digest == digest_bytes(data)
        assert store.get_bytes(ref.digest) == data

    def test_a_stream_that_fails_half_way_stores_nothing(self, store: BlobStore) -> None:
        broken = BrokenStream(good_bytes=2 * SMALL + MIB)
        with pytest.raises(InvalidArgument, match="cannot read the stream") as caught:
            store.put_stream(cast(BinaryIO, broken))
        assert "connection reset" in str(caught.value)
        assert broken.served == 2 * SMALL + MIB
        assert stored_objects(store) == []

    # -- de-duplication ----------------------------------------------------------------

    def test_same_bytes_are_stored_once(self, store: BlobStore, tmp_path: Path) -> None:
        for size in (100, 2 * SMALL + 1):
            data = os.urandom(size)
            first = store.put_bytes(data)
            objects = stored_objects(store)
            source = write(tmp_path / f"same-{size}.bin", data)
            again = [store.put_bytes(data), store.put_file(source),
                     store.put_stream(io.BytesIO(data)), *store.put_files([source, source])]
            assert {ref.digest for ref in again} == {first.digest}
            assert stored_objects(store) == objects
        assert len(list(store.iter_digests())) == 2

    # -- verification ------------------------------------------------------------------

    @pytest.mark.parametrize("damage", ["flip", "truncate", "extend"])
    def test_a_damaged_blob_is_detected(
        self, store: BlobStore, tmp_path: Path, damage: str
    ) -> None:
        data = os.urandom(SMALL + 100)
        ref = store.put_bytes(data)
        damaged = {
            "flip": data[:-1] + bytes([data[-1] ^ 1]),
            "truncate": data[:-1],
            "extend": data + b"!",
        }[damage]
        store.fs.pipe_file(store.blob_path(ref.digest), damaged)

        with pytest.raises(IntegrityError, match=ref.digest):
            store.get_bytes(ref.digest)
        with store.open_blob(ref.digest) as reader, pytest.raises(IntegrityError):
            _read_to_the_end(reader)
        dest = write(tmp_path / "dest.bin", b"previous")
        with pytest.raises(IntegrityError):
            store.get_file(ref.digest, dest)
        assert dest.read_bytes() == b"previous"
        with pytest.raises(IntegrityError):
            store.get_file(ref.digest, tmp_path / "fresh.bin")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dest.bin"]

    def test_a_damaged_blob_is_repaired_by_storing_it_again(self, store: BlobStore) -> None:
        ref = store.put_bytes(b"precious bytes")
        store.fs.pipe_file(store.blob_path(ref.digest), b"precious")
        assert store.put_bytes(b"precious bytes") == ref
        assert store.get_bytes(ref.digest) == b"precious bytes"

    # -- errors ------------------------------------------------------------------------

    def test_an_unknown_digest_is_not_found(self, store: BlobStore, tmp_path: Path) -> None:
        digest = digest_bytes(b"never stored")
        assert not store.exists(digest)
        for call in (
            lambda: store.get_bytes(digest),
            lambda: store.size(digest),
            lambda: store.open_blob(digest),
            lambda: store.read_manifest(digest),
            lambda: store.get_file(digest, tmp_path / "x"),
            lambda: store.get_tree(digest, tmp_path / "tree"),
        ):
            with pytest.raises(NotFound) as caught:
                call()
            assert digest in str(caught.value)
            assert store.url in str(caught.value)
            assert caught.value.hint
        assert not (tmp_path / "x").exists()
        store.delete(digest)  # deleting what is not there is fine

    @pytest.mark.parametrize("digest", BAD_DIGESTS)
    def test_a_malformed_digest_is_refused(
        self, store: BlobStore, tmp_path: Path, digest: str
    ) -> None:
        for call in (store.exists, store.size, store.get_bytes, store.open_blob,
                     store.read_manifest, store.delete):
            with pytest.raises(InvalidArgument, match="not a blob digest"):
                call(digest)
        with pytest.raises(InvalidArgument):
            store.get_file(digest, tmp_path / "x")

    def test_sources_that_are_not_files(self, store: BlobStore, tmp_path: Path) -> None:
        with pytest.raises(NotFound, match="no such file"):
            store.put_file(tmp_path / "missing")
        with pytest.raises(InvalidArgument, match="put_tree"):
            store.put_file(tmp_path)
        with pytest.raises(NotFound):
            store.put_tree(tmp_path / "missing")
        with pytest.raises(InvalidArgument):
            store.put_tree(write(tmp_path / "file", b"x"))
        assert stored_objects(store) == []

    def test_delete(self, store: BlobStore) -> None:
        ref = store.put_bytes(b"short-lived")
        store.delete(ref.digest)
        assert not store.exists(ref.digest)
        store.delete(ref.digest)
        with pytest.raises(NotFound):
            store.get_bytes(ref.digest)

    def test_delete_many(self, store: BlobStore) -> None:
        refs = [store.put_bytes(f"blob {i}".encode()) for i in range(5)]
        store.delete(refs[0].digest)  # already gone: fine
        store.delete_many([ref.digest for ref in refs[:4]])
        assert [store.exists(ref.digest) for ref in refs] == [False] * 4 + [True]

    # -- what garbage collection sees ---------------------------------------------------

    def test_blobs_are_listed_with_their_size_and_write_time(self, store: BlobStore) -> None:
        before = time.time() - 5  # clocks of object stores may be a little off
        refs = {store.put_bytes(data) for data in (b"a", b"bb" * 1000)}
        listed = list(store.iter_blobs())
        assert {(found.name, found.size) for found in listed} == {
            (ref.digest, ref.size) for ref in refs
        }
        assert all(before <= found.modified <= time.time() + 5 for found in listed)

    def test_temporary_uploads_are_listed_and_removed(self, store: BlobStore) -> None:
        store.put_bytes(b"so that the store exists")
        left = f"{store.root}/tmp/left-behind"
        store.fs.pipe_file(left, b"half an upload")
        [found] = list(store.iter_temporary())
        assert found.size == len(b"half an upload")
        store.delete_temporary(found.name)
        store.delete_temporary(found.name)  # already gone: fine
        assert list(store.iter_temporary()) == []
        with pytest.raises(InvalidArgument):
            store.delete_temporary(f"{store.root}/blobs/not-a-temporary")

    # -- trees -------------------------------------------------------------------------

    def test_tree_round_trip(self, store: BlobStore, tmp_path: Path) -> None:
        src = tmp_path / "src"
        files = {
            "model.bin": (os.urandom(SMALL + 5), 0o644),
            "run.sh": (b"#!/bin/sh\necho hi\n", 0o755),
            "secret/token": (b"t0ken", 0o600),
            "empty": (b"", 0o644),
            "a/b/c/d/deep.txt": (b"deep", 0o644),
            "a/b/copy-of-deep.txt": (b"deep", 0o640),
            "données/été ☀.txt": ("unicode ☀".encode(), 0o644),
            "日本/猫.bin": (b"neko", 0o644),
        }
        for relative, (data, mode) in files.items():
            write(src / relative, data, mode)
        (src / "empty-folder").mkdir()

        ref, manifest = store.put_tree(src)
        assert sorted(manifest.entries) == list(manifest.entries) == sorted(files)
        for relative, (data, mode) in files.items():
            assert manifest.entries[relative] == ManifestEntry(digest_bytes(data), len(data), mode)
        assert store.read_manifest(ref.digest) == manifest
        assert store.put_tree(src)[0] == ref  # canonical: same folder, same manifest blob

        restored = store.get_tree(ref.digest, tmp_path / "dest")
        assert restored == manifest
        for relative, (data, mode) in files.items():
            path = tmp_path / "dest" / relative
            assert path.read_bytes() == data
            assert stat.S_IMODE(path.stat().st_mode) == mode
        assert temporaries(store) == []

    @pytest.mark.parametrize("bad", ["../evil", "a/../../evil", "/etc/evil", "a\\b", "a//b",
                                     "./a", "a/", "C:/evil"])
    def test_a_manifest_cannot_escape(self, store: BlobStore, tmp_path: Path, bad: str) -> None:
        good = ManifestEntry(digest_bytes(b"x"), 1, 0o644)
        as_json = json.dumps(bad, ensure_ascii=False).encode()
        document = Manifest({"fine.txt": good}).to_bytes().replace(b'"fine.txt"', as_json)
        with pytest.raises(InvalidArgument, match="not allowed") as caught:
            Manifest.from_bytes(document)
        assert repr(bad) in str(caught.value)
        with pytest.raises(InvalidArgument):
            Manifest({bad: good})

        store.put_bytes(b"x")
        ref = store.put_bytes(document)
        with pytest.raises(InvalidArgument):
            store.get_tree(ref.digest, tmp_path / "dest" / "inner")
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    def test_a_file_is_not_a_manifest(self, store: BlobStore) -> None:
        ref = store.put_bytes(b"just some bytes")
        with pytest.raises(InvalidArgument, match="not a Gannet manifest"):
            store.read_manifest(ref.digest)

    # -- many files --------------------------------------------------------------------

    def test_put_files_in_parallel(self, store: BlobStore, tmp_path: Path) -> None:
        paths = [write(tmp_path / "in" / f"{i:03}.txt", f"file {i % 150}".encode())
                 for i in range(200)]
        refs = store.put_files(paths)
        assert [ref.digest for ref in refs] == [digest_file(p)[0] for p in paths]
        assert len(list(store.iter_digests())) == 150

        store.get_files([(ref.digest, tmp_path / "out" / p.name) for ref, p in
                         zip(refs, paths, strict=True)])
        for path in paths:
            assert (tmp_path / "out" / path.name).read_bytes() == path.read_bytes()
        assert temporaries(store) == []

    def test_a_batch_holds_every_blob_once_it_ends(self, store: BlobStore,
                                                   tmp_path: Path) -> None:
        paths = [write(tmp_path / "in" / f"{i:03}.txt", f"batched {i % 40}".encode())
                 for i in range(60)]  # 20 repeat an earlier file: one blob each
        with store.batched() as batch:
            refs = batch.put_files(paths)
        assert store.missing([ref.digest for ref in refs]) == []
        assert len(list(store.iter_digests())) == 40
        assert temporaries(store) == []

    # -- sources that move -------------------------------------------------------------

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
    def test_a_file_that_changes_while_stored(self, store: BlobStore) -> None:
        """A /proc file says it is empty, then yields bytes: the same lie a file being
        written tells. Nothing may be stored under any digest."""
        with pytest.raises(InvalidArgument, match="changed while it was being stored"):
            store.put_file("/proc/self/status")
        assert stored_objects(store) == []

    def test_a_file_replaced_while_stored(self, store: BlobStore, tmp_path: Path) -> None:
        """Another process keeps swapping the file: every put either stores one whole
        version or says the file changed, and nothing else is ever stored."""
        versions = [write(tmp_path / f"v{i}", os.urandom(SMALL + MIB)) for i in range(2)]
        allowed = {digest_file(v)[0] for v in versions}
        target = tmp_path / "moving.bin"
        os.link(versions[0], target)
        stop = threading.Event()

        def swap() -> None:
            turn = 1
            while not stop.is_set():
                link = tmp_path / f"link-{turn}"
                os.link(versions[turn % 2], link)
                os.replace(link, target)
                turn += 1

        swapper = threading.Thread(target=swap)
        swapper.start()
        outcomes = []
        try:
            for _ in range(6):
                try:
                    outcomes.append(store.put_file(target).digest)
                except InvalidArgument as exc:
                    outcomes.append(str(exc))
        finally:
            stop.set()
            swapper.join()
        for outcome in outcomes:
            assert outcome in allowed or "changed while it was being stored" in outcome
        assert set(store.iter_digests()) <= allowed
        for digest in store.iter_digests():
            store.get_bytes(digest)  # verifies
        assert temporaries(store) == []


def _read_to_the_end(reader: BinaryIO) -> None:
    while reader.read(MIB):
        pass


class BrokenStream(io.RawIOBase):
    """A caller's stream that serves some bytes, then fails (a dropped upload, say)."""

    def __init__(self, good_bytes: int) -> None:
        super().__init__()
        self.left = good_bytes
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.left:
            raise ConnectionResetError("connection reset by the client")
        n = min(len(buffer), self.left, MIB)
        buffer[:n] = b"x" * n
        self.left -= n
        self.served += n
        return n
