"""Blobs in an fsspec object store (s3://, gs://, az://, ...).

Object stores make a PUT, or the completion of a multipart upload, atomic: an object is
either whole or absent. So a blob whose digest is known is uploaded straight to its final
key, through a file opened with ``autocommit=False``: parts go up as they are written, and
only ``commit`` (after the bytes were verified) completes the upload; ``discard`` aborts
it. For a stream the digest is only known at the end, so it is uploaded to
``<root>/tmp/<uuid>`` and then copied server-side to its key.

Backends whose files do not honour ``autocommit=False`` (anything outside
``_TRANSACTIONAL``) always take the temporary-key route, so a half-written object can
only ever sit under ``tmp/``, never under a digest.

Listings are never trusted for existence: fsspec caches directory listings, and another
process may have stored a blob since, so the cache entry is dropped before each look-up.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Iterator
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.store.blobs.backend import Backend, Writer
from gannet.store.blobs.types import StoredObject

_TRANSACTIONAL = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az"})
MIN_BLOCK = 8 << 20  # upload part size; S3 allows 10,000 parts, so big files get bigger parts
MAX_PARTS = 9_000


class RemoteBackend(Backend):
    def __init__(self, location: str, fs: Any, root: str) -> None:
        self.location = location
        self.fs = fs
        self.root = root.rstrip("/")
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        self.transactional = bool(_TRANSACTIONAL.intersection(protocols))

    def stat(self, hex_digest: str) -> int | None:
        path = self.path(hex_digest)
        self.fs.invalidate_cache(path)
        try:
            return int(self.fs.info(path)["size"])
        except FileNotFoundError:
            return None

    def open_read(self, hex_digest: str) -> tuple[Any, int]:
        path = self.path(hex_digest)
        self.fs.invalidate_cache(path)
        raw = self.fs.open(path, "rb", block_size=MIN_BLOCK)
        return raw, int(raw.size)

    def writer(self, hex_digest: str | None, size: int | None) -> Writer:
        block = max(MIN_BLOCK, math.ceil((size or 0) / MAX_PARTS))
        if hex_digest is not None and self.transactional:
            return _RemoteWriter(self, self.path(hex_digest), block, direct=True)
        return _RemoteWriter(self, f"{self.root}/tmp/{uuid.uuid4().hex}", block, direct=False)

    def write_bytes(self, hex_digest: str, data: bytes) -> None:
        path = self.path(hex_digest)
        self.fs.pipe_file(path, data)
        self.check_size(path, len(data))

    def delete(self, hex_digest: str) -> None:
        try:
            self.fs.rm_file(self.path(hex_digest))
        except FileNotFoundError:
            pass

    def delete_many(self, hex_digests: list[str]) -> None:
        paths = [self.path(hex_digest) for hex_digest in hex_digests]
        for start in range(0, len(paths), 1000):  # S3's DeleteObjects takes 1,000 keys
            chunk = paths[start : start + 1000]
            try:
                self.fs.rm(chunk)
            except FileNotFoundError:  # some were gone already: remove the rest one by one
                for path in chunk:
                    try:
                        self.fs.rm_file(path)
                    except FileNotFoundError:
                        pass

    def iter_hex(self) -> Iterator[str]:
        base = f"{self.root}/blobs/"
        self.fs.invalidate_cache(base)
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return
        for path in sorted(found):
            prefix, _, rest = path[len(base) :].partition("/")
            if len(prefix) == 2 and rest and "/" not in rest:
                yield prefix + rest

    def iter_blobs(self) -> Iterator[StoredObject]:
        base = f"{self.root}/blobs/"
        for path, info in self._find(base):
            prefix, _, rest = path[len(base) :].partition("/")
            if len(prefix) == 2 and rest and "/" not in rest:
                yield StoredObject(prefix + rest, int(info.get("size") or 0), _modified(info))

    def iter_temporary(self) -> Iterator[StoredObject]:
        base = f"{self.root}/tmp/"
        for path, info in self._find(base):
            if "/" not in path[len(base) :]:
                yield StoredObject(path, int(info.get("size") or 0), _modified(info))

    def delete_temporary(self, name: str) -> None:
        if not name.startswith(f"{self.root}/tmp/"):
            raise InvalidArgument(f"{name} is not a temporary upload of this store")
        try:
            self.fs.rm_file(name)
        except FileNotFoundError:
            pass

    def _find(self, base: str) -> Iterator[tuple[str, dict[str, Any]]]:
        self.fs.invalidate_cache(base)
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return
        for path in sorted(found):
            yield path, found[path]

    def check_size(self, path: str, size: int) -> None:
        """The object store said yes; make sure it holds what we sent, or remove it."""
        self.fs.invalidate_cache(path)
        stored = int(self.fs.info(path)["size"])
        if stored != size:
            self.fs.rm_file(path)
            raise OSError(f"{path} holds {stored} bytes after storing {size}; it was removed")


class _RemoteWriter(Writer):
    def __init__(self, backend: RemoteBackend, path: str, block: int, *, direct: bool) -> None:
        self._backend = backend
        self._path = path
        self._direct = direct
        kwargs = {"autocommit": False} if backend.transactional else {}
        self._file = backend.fs.open(path, "wb", block_size=block, **kwargs)
        self._done = False

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)

    def commit(self, hex_digest: str, size: int) -> None:
        fs = self._backend.fs
        self._file.close()
        if self._backend.transactional:
            self._file.commit()
        self._done = True
        if self._direct:
            self._backend.check_size(self._path, size)
            return
        final = self._backend.path(hex_digest)
        try:
            if self._backend.stat(hex_digest) != size:
                fs.copy(self._path, final)
                self._backend.check_size(final, size)
        finally:
            self._remove_tmp()

    def abort(self) -> None:
        if not self._done:
            self._done = True
            discard = getattr(self._file, "discard", None)
            if callable(discard):
                discard()
            try:  # marked closed, so neither close() nor garbage collection commits it
                self._file.closed = True
            except AttributeError:  # a plain file object: closing it can only fill tmp/
                self._file.close()
        if not self._direct:
            self._remove_tmp()

    def _remove_tmp(self) -> None:
        try:
            self._backend.fs.rm_file(self._path)
        except FileNotFoundError:
            pass


def _modified(info: dict[str, Any]) -> float:
    """When an object was last written, from what the fsspec implementation reports
    (S3: ``LastModified``; others: ``mtime``, ``last_modified`` or ``created``)."""
    for key in ("LastModified", "mtime", "last_modified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, str):
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return float(value)
    return 0.0  # unknown: as old as can be, so only a reference keeps it
