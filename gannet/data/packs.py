"""Small files of dataset versions stored together, in pack blobs.

Why: a first ``add`` of a folder of thousands of small files spent most of its time
creating one blob file each (an inode, a rename, a directory entry; on an object store,
a request each), not reading or hashing them. Files under ``PACK_UNDER`` now go, in the
order they are read, into packs of up to ``PACK_BYTES``: one blob each.

Nothing a user sees changes. A version's manifest names every file by its own digest, so
versions, diffs and de-duplication across versions and datasets are as before; the
``data_packed`` table says where, inside which pack, a digest's bytes lie. Reading a file
takes its own blob when there is one, else its part of a pack, checked against the file's
digest either way.

A pack is kept by garbage collection while any file it holds is referenced
(``packs_holding``). A row whose pack is gone (collected) counts for nothing: the file is
not stored, and the next ``add`` of it stores it again and moves the row.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from gannet.core.digests import format_digest, hex_of_bytes
from gannet.core.errors import InvalidArgument, NotFound
from gannet.data import repository
from gannet.data.listing import Found
from gannet.store.blobs import BlobRef
from gannet.store.blobs.parts import Appender, read_parts

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore

PACK_UNDER = 1 << 20  # files smaller than this go into packs; larger ones are blobs
PACK_BYTES = 64 << 20  # a pack is closed once it holds this much
RUN_FILES, RUN_BYTES = 900, 16 << 20  # read and hashed, then looked up, together


@dataclass(frozen=True, slots=True)
class Packed:
    """Where a file's bytes lie: ``size`` bytes from ``start`` of blob ``pack``."""

    pack: str
    start: int
    size: int


class PackIndex:
    """The files of dataset versions as stored: each its own blob, or a part of a pack.
    Made for one operation: it remembers which packs it found stored."""

    def __init__(self, metadata: MetadataStore, blobs: BlobStore) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.written: list[tuple[str, Packed]] = []  # by ``pack_files``, for ``record``
        self._pack_stored: dict[str, bool] = {}

    def locate(self, digests: Sequence[str]) -> dict[str, Packed]:
        """The digests that lie in a stored pack, and where."""
        with self.metadata.read() as conn:
            rows = repository.packed(conn, digests)
        found = {digest: Packed(pack, start, size) for digest, pack, start, size in rows}
        for pack in {p.pack for p in found.values()} - self._pack_stored.keys():
            self._pack_stored[pack] = self.blobs.exists(pack)
        return {d: p for d, p in found.items() if self._pack_stored[p.pack]}

    def sizes(self, digests: Sequence[str]) -> dict[str, int | None]:
        """Each digest's stored size (its own blob or its part of a pack), None if absent."""
        sizes = self.blobs.sizes(digests)
        absent = [digest for digest, size in sizes.items() if size is None]
        if absent:
            sizes.update({d: p.size for d, p in self.locate(absent).items()})
        return sizes

    def missing(self, digests: Sequence[str]) -> list[str]:
        return [digest for digest, size in self.sizes(digests).items() if size is None]

    def stored(self, digests: Sequence[str]) -> set[str]:
        """Which of ``digests`` are stored: packed first (one query), then own blobs."""
        found = set(self.locate(digests))
        rest = [d for d in digests if d not in found]
        return found | (set(rest) - set(self.blobs.missing(rest)))

    def open(self, digest: str) -> BinaryIO:
        """A verified reader of the file ``digest``."""
        try:
            return self.blobs.open_blob(digest)
        except NotFound:
            where = self.locate([digest]).get(digest)
            if where is None:
                raise
        data = next(read_parts(self.blobs, where.pack, [(where.start, where.size, digest)]))
        return io.BytesIO(data)

    def read_packed(self, wanted: Collection[str]) -> Iterator[tuple[str, bytes]]:
        """(digest, verified bytes) of each of ``wanted`` that lies in a pack, pack by
        pack, front to back; the rest are left to the caller (their own blobs)."""
        by_pack: dict[str, list[tuple[int, int, str]]] = {}
        for digest, where in self.locate(list(wanted)).items():
            by_pack.setdefault(where.pack, []).append((where.start, where.size, digest))
        for pack, parts in by_pack.items():
            parts.sort()
            for (_, _, digest), data in zip(parts, read_parts(self.blobs, pack, parts),
                                            strict=True):
                yield digest, data

    def record(self) -> None:
        """Index what ``pack_files`` wrote (once its packs are durable)."""
        if self.written:
            with self.metadata.write() as conn:
                repository.insert_packed(conn, [(d, p.pack, p.start, p.size)
                                                for d, p in self.written])
            self.written = []


def pack_files(blobs: BlobStore, index: PackIndex, files: list[Found],
               report: Callable[[int, int], None]) -> dict[str, BlobRef]:
    """Store small ``files`` into packs through ``blobs`` (the batch's store): each read
    once, checked to be the file as listed after it was read, and packed unless its bytes
    are stored already; ``report(files, bytes)`` after each run."""
    refs: dict[str, BlobRef] = {}
    placed: set[str] = set()
    packer = Packer(blobs, index)
    try:
        for run in _runs(files):
            read = [(found, *_read_listed(found)) for found in run]
            fresh = list(dict.fromkeys(d for _, _, d in read if d not in placed))
            placed.update(index.stored(fresh) if fresh else ())
            for found, data, digest in read:
                if digest not in placed:
                    packer.add(digest, data)
                    placed.add(digest)
                refs[found.relative] = BlobRef(digest, len(data))
            report(len(run), sum(len(data) for _, data, _ in read))
        packer.close()
    except BaseException:
        packer.abort()
        raise
    return refs


class Packer:
    """The pack being written, closed at ``PACK_BYTES`` for the next."""

    def __init__(self, blobs: BlobStore, index: PackIndex) -> None:
        self.blobs = blobs
        self.index = index
        self._pack: Appender | None = None
        self._parts: list[tuple[str, int, int]] = []

    def add(self, digest: str, data: bytes) -> None:
        if self._pack is None:
            self._pack = Appender(self.blobs)
        self._parts.append((digest, self._pack.append(data), len(data)))
        if self._pack.size >= PACK_BYTES:
            self.close()

    def close(self) -> None:
        if self._pack is not None:
            pack = self._pack.commit().digest
            self.index.written.extend((digest, Packed(pack, start, size))
                                      for digest, start, size in self._parts)
            self._pack, self._parts = None, []

    def abort(self) -> None:
        if self._pack is not None:
            self._pack.abort()


def _runs(files: list[Found]) -> Iterator[list[Found]]:
    run: list[Found] = []
    size = 0
    for found in files:
        run.append(found)
        size += found.size
        if len(run) >= RUN_FILES or size >= RUN_BYTES:
            yield run
            run, size = [], 0
    if run:
        yield run


def _read_listed(found: Found) -> tuple[bytes, str]:
    """The file's bytes and digest; one ``fstat`` after the read, compared with the
    listing's, shows that these are the bytes of the file as it was listed (a write
    during or since the listing changes its mtime and ctime, a replacement its inode)."""
    try:  # the system's calls themselves: a file object costs more than the read
        fd = os.open(found.path, os.O_RDONLY)
        try:
            data = os.read(fd, found.size + 1)
            after = os.fstat(fd)
        finally:
            os.close(fd)
    except PermissionError:
        raise InvalidArgument(f"cannot add {found.path}: it is not readable",
                              "check its permissions, then add again") from None
    except FileNotFoundError:
        after = None
    if after is None or len(data) != found.size or [
            after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev,
            after.st_ctime_ns] != found.key:
        raise InvalidArgument(
            f"file {found.path} changed while it was being added; no version was made",
            "wait until whatever writes it has finished (or add a copy), then add again",
        )
    return data, format_digest(hex_of_bytes(data))


def packs_holding(metadata: MetadataStore, digests: Iterable[str]) -> set[str]:
    """The packs that hold any of ``digests`` (what garbage collection must keep)."""
    wanted = set(digests)
    with metadata.read() as conn:
        return {pack for digest, pack in repository.all_packed(conn) if digest in wanted}
