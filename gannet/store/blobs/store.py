"""The content-addressed blob store: bytes named by their blake3 digest, on any fsspec URL.

Naming bytes by their digest gives three things at once: the same bytes are stored once
(a second ``put`` of a known file costs one hash and no write), a name can be checked
against what it names on every read, and a blob never changes, so it can be cached or
copied anywhere. Directories are manifests (path -> digest, size, mode), themselves blobs.

Where bytes live and how a write becomes atomic is the backends' business (``local``,
``remote``); this module owns the digests, the checks and the parallel transfers.
"""

from __future__ import annotations

import copy
import io
import os
import stat
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from gannet.core.digests import (
    digest_bytes,
    format_digest,
    hex_of_bytes,
    hex_part,
    is_digest,
)
from gannet.core.errors import InvalidArgument, NotFound
from gannet.store.blobs import sources
from gannet.store.blobs.backend import Backend, is_storage_failure, storage_error, translated
from gannet.store.blobs.copying import copy_hashing
from gannet.store.blobs.local import BatchedLocalBackend, LocalBackend
from gannet.store.blobs.opening import open_backend
from gannet.store.blobs.reader import VerifyingReader, Window
from gannet.store.blobs.transfer import Counter, Tracker, run_parallel
from gannet.store.blobs.types import BlobRef, Manifest, ManifestEntry, StoredObject

PathLike = str | os.PathLike[str]
CHUNK = sources.CHUNK  # bytes per read/write: flat memory, and the copy stays in the CPU cache
SMALL = 4 << 20  # files up to this size are read once into memory and written in one step


class BlobStore:
    """Blobs under ``url``: a local folder, ``file://`` URL, or any fsspec URL (``s3://...``).

    The constructor only remembers its arguments; ``open`` (or the first call that needs
    storage) builds the filesystem. ``storage_options`` go to fsspec (for S3: ``key``,
    ``secret``, ``client_kwargs={"endpoint_url": ...}``); the usual environment variables
    (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) are honoured by the S3 client itself.
    """

    def __init__(
        self,
        url: str,
        *,
        threads: int = 8,
        progress: bool = True,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.threads = threads
        self.progress = progress
        self.storage_options = dict(storage_options or {})
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BlobStore({self.url!r})"

    def open(self) -> BlobStore:
        with self._lock:
            if self._backend is None:
                self._backend = open_backend(self.url, self.storage_options)
        return self

    @property
    def fs(self) -> Any:
        """The fsspec filesystem holding the blobs (for tools such as garbage collection)."""
        return self._storage.fs

    @property
    def is_local(self) -> bool:
        """Whether the blobs are files of this machine (a checkout may then reflink them)."""
        return isinstance(self._storage, LocalBackend)

    @property
    def root(self) -> str:
        """The store's root as a path of ``fs``."""
        return self._storage.root

    def blob_path(self, digest: str) -> str:
        """Where the blob ``digest`` lives, as a path of ``fs``."""
        return self._storage.path(self._hex(digest))

    def iter_digests(self) -> Iterator[str]:
        """Digests of every stored blob, sorted."""
        with translated(self.url, "listing blobs"):
            for hex_digest in self._storage.iter_hex():
                yield format_digest(hex_digest)

    def iter_blobs(self) -> Iterator[StoredObject]:
        """Every stored blob (``name`` is its ``blake3:<hex>`` digest), size and write time."""
        with translated(self.url, "listing blobs"):
            for found in self._storage.iter_blobs():
                yield StoredObject(format_digest(found.name), found.size, found.modified)

    def iter_temporary(self) -> Iterator[StoredObject]:
        """Uploads that have not become blobs: in flight, or left by a writer that died."""
        with translated(self.url, "listing temporary uploads"):
            yield from self._storage.iter_temporary()

    def delete_temporary(self, name: str) -> None:
        with translated(self.url, "removing a temporary upload"):
            self._storage.delete_temporary(name)

    # -- storing -----------------------------------------------------------------------

    @contextmanager
    def batched(self) -> Iterator[BlobStore]:
        """This store, for many writes in a row: on a local folder, blobs written through
        the store it yields become durable, then visible, all at once when the block ends
        (not with two fsyncs each); removed if it fails. Elsewhere: this store as it is."""
        storage = self._storage
        if not isinstance(storage, LocalBackend):
            yield self
            return
        batch = BatchedLocalBackend(storage)
        view = copy.copy(self)
        view._backend, view._lock = batch, threading.Lock()
        try:
            yield view
        except BaseException:
            batch.discard()
            raise
        with translated(self.url, "storing blobs", missing_is_failure=True):
            batch.finish()

    def put_bytes(self, data: bytes) -> BlobRef:
        ref = BlobRef(digest_bytes(data), len(data))
        hex_digest = hex_part(ref.digest)
        with translated(self.url, "storing a blob", missing_is_failure=True):
            if self._storage.stat(hex_digest) != ref.size:
                self._storage.write_bytes(hex_digest, bytes(data))
        return ref

    def put_file(self, path: PathLike) -> BlobRef:
        name = os.fspath(path)
        size = sources.source_size(name)
        with Tracker(f"storing {os.path.basename(name)}", enabled=self.progress,
                     total=size, files=1) as tracker:
            return self._put_path(name, tracker)

    def put_files(self, paths: Sequence[PathLike]) -> list[BlobRef]:
        names = [os.fspath(path) for path in paths]
        total = sum(sources.source_size(name) for name in names)
        with Tracker(f"storing {len(names)} files", enabled=self.progress, total=total,
                     files=len(names)) as tracker:
            return run_parallel(lambda name: self._put_path(name, tracker), names, self.threads)

    def put_stream(self, stream: BinaryIO) -> BlobRef:
        head = sources.read_whole(stream, SMALL + 1)
        if len(head) <= SMALL:
            return self.put_bytes(head)
        storage = self._storage
        with translated(self.url, "storing a stream", missing_is_failure=True):
            writer = storage.writer(None, None)
            try:
                ref = copy_hashing(stream, writer, head)
                _keep(storage, writer, hex_part(ref.digest), ref.size)
            except BaseException:
                writer.abort()
                raise
        return ref

    def put_expected(self, stream: BinaryIO, digest: str, size: int | None = None) -> BlobRef:
        """Store a stream that claims to be the blob ``digest`` (of ``size`` bytes): hashed
        while it is written, and committed under that name only if the bytes match. An
        upload that stops half-way, or does not match, leaves nothing under a blob name."""
        hex_digest = self._hex(digest)
        storage = self._storage
        with translated(self.url, f"storing blob {digest}", missing_is_failure=True):
            writer = storage.writer(hex_digest, size)
            try:
                copied = copy_hashing(stream, writer)
                actual, copied_size = copied.digest, copied.size
                if actual != digest or (size is not None and copied_size != size):
                    raise mismatch(digest, size, actual, copied_size)
                _keep(storage, writer, hex_digest, copied_size)
            except BaseException:
                writer.abort()
                raise
        return BlobRef(digest, copied_size)

    def put_path(self, path: PathLike, advance: Callable[[int], None] | None = None) -> BlobRef:
        """Store one file without a progress bar of its own, telling ``advance`` the bytes
        as they pass (for callers that show their own progress over many files)."""
        return self._put_path(os.fspath(path), Counter(advance))

    def put_tree(self, folder: PathLike) -> tuple[BlobRef, Manifest]:
        root = os.path.abspath(os.fspath(folder))
        files = sources.scan_tree(root)
        with Tracker(f"storing {os.path.basename(root)}", enabled=self.progress,
                     total=sum(f.size for f in files), files=len(files)) as tracker, \
                self.batched() as store:
            refs = run_parallel(lambda f: store._put_path(f.path, tracker), files, self.threads)
        manifest = Manifest({
            f.relative: ManifestEntry(ref.digest, ref.size, f.mode)
            for f, ref in zip(files, refs, strict=True)
        })
        return self.put_bytes(manifest.to_bytes()), manifest

    def _put_path(self, path: str, tracker: Tracker) -> BlobRef:
        try:
            source = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise sources.vanished(path) from None
        with source, translated(self.url, f"storing {path}", missing_is_failure=True):
            before = os.fstat(source.fileno())
            if not stat.S_ISREG(before.st_mode):
                raise sources.changed(path)
            if before.st_size > SMALL:
                return self._put_large(path, source, before, tracker)
            ref = self._put_small(path, source, before)
        tracker.advance(ref.size)
        return ref

    def _put_small(self, path: str, source: io.RawIOBase, before: os.stat_result) -> BlobRef:
        """One read: the bytes hashed are the very bytes stored."""
        data = sources.read_whole(source, before.st_size + 1)  # one more: did it grow?
        if len(data) != before.st_size:
            raise sources.changed(path)
        hex_digest = hex_of_bytes(data)
        stored = self._storage.stat(hex_digest) == len(data)
        sources.check_unchanged(path, source, before)
        if not stored:
            self._storage.write_bytes(hex_digest, data)
        return BlobRef(format_digest(hex_digest), len(data))

    def _put_large(
        self, path: str, source: io.RawIOBase, before: os.stat_result, tracker: Tracker
    ) -> BlobRef:
        """Hash first (a stored blob then costs no write), then copy while hashing again;
        commit only if both passes saw the same bytes."""
        digest, size = sources.hash_open_file(source)
        if size != before.st_size:
            raise sources.changed(path)
        ref = BlobRef(digest, size)
        hex_digest = hex_part(digest)
        if self._storage.stat(hex_digest) == size:
            sources.check_unchanged(path, source, before)
            tracker.advance(size)
            return ref
        source.seek(0)
        writer = self._storage.writer(hex_digest, size)
        try:
            if copy_hashing(cast(BinaryIO, source), writer, advance=tracker.advance) != ref:
                raise sources.changed(path)
            sources.check_unchanged(path, source, before)
            writer.commit(hex_digest, size)
        except BaseException:
            writer.abort()
            raise
        return ref

    # -- reading -----------------------------------------------------------------------

    def exists(self, digest: str) -> bool:
        hex_digest = self._hex(digest)
        with translated(self.url, f"looking up blob {digest}"):
            return self._storage.stat(hex_digest) is not None

    def size(self, digest: str) -> int:
        hex_digest = self._hex(digest)
        with translated(self.url, f"looking up blob {digest}"):
            size = self._storage.stat(hex_digest)
        if size is None:
            raise self._not_found(digest)
        return size

    def missing(self, digests: Sequence[str]) -> list[str]:
        """Which of ``digests`` are not stored (looked up in parallel on object stores)."""
        return [digest for digest, size in self.sizes(digests).items() if size is None]

    def sizes(self, digests: Sequence[str]) -> dict[str, int | None]:
        """The size of each blob, None for one not stored (looked up in parallel)."""
        wanted = list(dict.fromkeys(digests))
        hexes = [self._hex(digest) for digest in wanted]  # refuses what is not a digest
        storage = self._storage
        if isinstance(storage, LocalBackend):  # a stat each: threads would queue for the GIL
            with translated(self.url, "looking up blobs"):
                return dict(zip(wanted, map(storage.stat, hexes), strict=True))

        def size(digest: str) -> int | None:
            with translated(self.url, f"looking up blob {digest}"):
                return storage.stat(hex_part(digest))

        return dict(zip(wanted, run_parallel(size, wanted, self.threads), strict=True))

    def open_range(self, digest: str, start: int, stop: int) -> BinaryIO:
        """Bytes ``start`` to ``stop`` (excluded) of a blob, unverified (a part of a blob
        cannot be checked against the digest of the whole; a whole download is, by its
        reader)."""
        raw, size = self.open_raw(digest)
        with translated(self.url, f"opening blob {digest}"):
            raw.seek(start)
        return io.BufferedReader(Window(raw, max(0, min(stop, size) - start)), CHUNK)

    def open_raw(self, digest: str) -> tuple[Any, int]:
        """The blob's own file object (seekable; the caller closes it, and verifies what
        it reads) and its size."""
        hex_digest = self._hex(digest)
        with translated(self.url, f"opening blob {digest}"):
            try:
                return self._storage.open_read(hex_digest)
            except FileNotFoundError:
                raise self._not_found(digest) from None

    def open_blob(self, digest: str) -> BinaryIO:
        """A reader that raises ``IntegrityError`` at the end if the bytes do not match."""
        return self._open_verified(digest)[0]

    def get_bytes(self, digest: str) -> bytes:
        with self.open_blob(digest) as reader:
            return reader.read()

    def get_file(self, digest: str, dest: PathLike) -> None:
        """Restore a blob to ``dest``; ``dest`` is replaced only by verified bytes."""
        name = os.fspath(dest)
        with Tracker(f"restoring {os.path.basename(name)}", enabled=self.progress,
                     files=1) as tracker:
            self._get_to(digest, name, None, tracker, learn=True)

    def get_files(
        self, items: Sequence[tuple[str, PathLike]], *, within: PathLike | None = None
    ) -> None:
        """Restore blobs to files; with ``within``, every file must land inside that folder
        (a link already in it that points elsewhere is refused, not followed)."""
        jobs = [(digest, os.fspath(dest)) for digest, dest in items]
        for digest, _ in jobs:
            self._hex(digest)
        if within is not None:
            real_root = os.path.realpath(os.fspath(within))
            for _, dest in jobs:
                check_inside(real_root, dest, os.fspath(within))
        with Tracker(f"restoring {len(jobs)} files", enabled=self.progress,
                     files=len(jobs)) as tracker:
            run_parallel(lambda job: self._get_to(job[0], job[1], None, tracker, learn=True),
                         jobs, self.threads)

    def get_tree(self, manifest_digest: str, dest: PathLike) -> Manifest:
        """Restore a directory stored by ``put_tree`` into ``dest`` (files and modes)."""
        manifest = self.read_manifest(manifest_digest)
        root = os.path.abspath(os.fspath(dest))
        os.makedirs(root, exist_ok=True)
        real_root = os.path.realpath(root)
        jobs = list(manifest.entries.items())

        def restore(job: tuple[str, ManifestEntry]) -> None:
            relative, entry = job
            target = os.path.join(root, *relative.split("/"))
            check_inside(real_root, target, root)
            self._get_to(entry.digest, target, entry.mode, tracker)

        with Tracker(f"restoring {os.path.basename(root)}", enabled=self.progress,
                     total=manifest.total_size, files=len(jobs)) as tracker:
            run_parallel(restore, jobs, self.threads)
        return manifest

    def read_manifest(self, digest: str) -> Manifest:
        return Manifest.from_bytes(self.get_bytes(digest))

    def delete(self, digest: str) -> None:
        hex_digest = self._hex(digest)
        with translated(self.url, f"deleting blob {digest}"):
            self._storage.delete(hex_digest)

    def delete_many(self, digests: Sequence[str]) -> None:
        """Remove blobs (one request per 1,000 on object stores); absent ones are fine."""
        hexes = [self._hex(digest) for digest in digests]
        with translated(self.url, f"deleting {len(hexes)} blobs"):
            self._storage.delete_many(hexes)

    def _open_verified(self, digest: str) -> tuple[io.BufferedReader, int]:
        raw, size = self.open_raw(digest)

        def translate(exc: Exception) -> Exception | None:
            failing = is_storage_failure(exc)
            return storage_error(self.url, f"reading blob {digest}", exc) if failing else None

        reader = VerifyingReader(raw, digest=digest, size=size, where=self.url,
                                 translate=translate)
        buffer_size = max(io.DEFAULT_BUFFER_SIZE, min(size, 1 << 20))
        return io.BufferedReader(reader, buffer_size=buffer_size), size

    def _get_to(
        self, digest: str, dest: str, mode: int | None, tracker: Tracker | None,
        *, learn: bool = False,
    ) -> None:
        """Stream a blob into a temporary file beside ``dest``, then rename it over ``dest``."""
        folder = os.path.dirname(os.path.abspath(dest))
        os.makedirs(folder, exist_ok=True)
        reader, size = self._open_verified(digest)
        if tracker is not None and learn:
            tracker.expect(size)
        tmp = os.path.join(folder, f".{os.path.basename(dest)}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            with reader, open(tmp, "xb", buffering=0) as out:
                buffer = bytearray(max(1, min(size, CHUNK)))
                view = memoryview(buffer)
                while n := reader.readinto(buffer):
                    out.write(view[:n])
                    if tracker is not None:
                        tracker.advance(n)
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, dest)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    # -- plumbing ----------------------------------------------------------------------

    @property
    def _storage(self) -> Backend:
        backend = self._backend or self.open()._backend
        assert backend is not None
        return backend

    def _hex(self, digest: str) -> str:
        if not isinstance(digest, str) or not is_digest(digest):
            raise InvalidArgument(
                f"{digest!r} is not a blob digest",
                "a digest looks like 'blake3:' followed by 64 lowercase hex characters, "
                "as returned by put_bytes/put_file",
            )
        return digest.partition(":")[2]  # checked just above: hex_part would check again

    def _not_found(self, digest: str) -> NotFound:
        return NotFound(
            f"no blob {digest} in the artifact store {self.url}",
            "check the digest, and that this is the store it was written to (the "
            "artifacts_url setting, GANNET_ARTIFACTS_URL); a blob removed by garbage "
            "collection must be stored again",
        )


def mismatch(digest: str, size: int | None, actual: str, actual_size: int) -> InvalidArgument:
    said = f"{digest}" + (f" of {size} bytes" if size is not None else "")
    return InvalidArgument(
        f"the bytes sent as blob {said} are {actual_size} bytes hashing to {actual}; "
        "nothing was stored",
        "send the file's own bytes under its blake3 digest (the file may have changed "
        "while it was sent: send it again)",
    )


def check_inside(real_root: str, target: str, root: str) -> None:
    """Refuse a target whose folder, links resolved, is not inside ``real_root``."""
    real_folder = os.path.realpath(os.path.dirname(os.path.abspath(target)))
    if os.path.commonpath([real_root, real_folder]) != real_root:
        raise InvalidArgument(
            f"restoring {target} would write outside {root} (through a link)",
            "restore into a folder without links that point elsewhere, or an empty one",
        )


def _keep(storage: Backend, writer: Any, hex_digest: str, size: int) -> None:
    """Commit what ``writer`` wrote as the blob, unless the store holds it already."""
    if storage.stat(hex_digest) == size:
        writer.abort()
    else:
        writer.commit(hex_digest, size)

