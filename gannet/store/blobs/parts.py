"""Blobs made of parts: one blob written piece by piece (``Appender``), and pieces of a
blob read back, each checked against a digest of its own (``read_parts``).

Why: thousands of small files cost more to create one by one (an inode, a rename, a
directory entry, a request to an object store each) than to read and hash. A caller that
keeps its own index of where each piece lies (``gannet.data.packs``) can store them as
one blob and still verify every piece it reads back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from gannet.core.digests import format_digest, hasher, hex_of_bytes, hex_part
from gannet.core.errors import IntegrityError
from gannet.store.blobs.backend import translated
from gannet.store.blobs.types import BlobRef

if TYPE_CHECKING:
    from gannet.store.blobs.store import BlobStore

Part = tuple[int, int, str]  # start, size, digest of those bytes
BLOCK = 1 << 20  # bytes an ``Appender`` gathers before it writes


class Appender:
    """One blob written in pieces; ``append`` says where each piece starts. Through a
    ``BlobStore.batched()`` store on a local folder, the blob becomes durable and visible
    with the rest of the batch."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._storage = blobs._storage
        with translated(blobs.url, "starting a blob", missing_is_failure=True):
            self._writer = self._storage.writer(None, None)
        self._hash = hasher()
        self._buffer = bytearray()  # written in blocks of BLOCK: one write, not one a piece
        self.size = 0

    def append(self, data: bytes) -> int:
        start = self.size
        self._buffer += data
        self.size += len(data)
        if len(self._buffer) >= BLOCK:
            self._flush()
        return start

    def _flush(self) -> None:
        with translated(self._blobs.url, "writing a blob", missing_is_failure=True):
            self._writer.write(memoryview(self._buffer))
        self._hash.update(self._buffer)
        self._buffer = bytearray()

    def commit(self) -> BlobRef:
        """The blob, stored (once: a blob of the same bytes already there is kept)."""
        self._flush()
        hex_digest = self._hash.hexdigest()
        with translated(self._blobs.url, "storing a blob", missing_is_failure=True):
            if self._storage.stat(hex_digest) == self.size:
                self._writer.abort()
            else:
                self._writer.commit(hex_digest, self.size)
        return BlobRef(format_digest(hex_digest), self.size)

    def abort(self) -> None:
        self._writer.abort()


def read_parts(blobs: BlobStore, digest: str, parts: Iterable[Part]) -> Iterator[bytes]:
    """The bytes of each part of blob ``digest``, in the order given (ascending starts read
    the blob front to back, one open for all), each verified against its own digest: a
    damaged part raises ``IntegrityError`` naming it, and is never returned."""
    raw, _ = blobs.open_raw(digest)
    with raw:
        position = 0
        for start, size, expected in parts:
            with translated(blobs.url, f"reading blob {digest}"):
                if start != position:
                    raw.seek(start)
                data = _read_exactly(raw, size)
            position = start + len(data)
            if len(data) != size or hex_of_bytes(data) != hex_part(expected):
                raise IntegrityError(
                    f"file {expected} stored in blob {digest} of the artifact store "
                    f"{blobs.url} is damaged: bytes {start} to {start + size} do not hash "
                    "to it",
                    "the stored copy is damaged: add the data again from its source (then "
                    "run gannet gc), or restore the store from a backup",
                )
            yield data


def _read_exactly(raw: object, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = raw.read(left)  # type: ignore[attr-defined]
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
