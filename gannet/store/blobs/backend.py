"""The bytes layer under the content-addressed store: where a blob named by its hex lives.

Two backends implement it: ``local`` (a folder, plain ``os`` calls, ``os.replace`` for
atomicity) and ``remote`` (any fsspec object store, whose single PUT or completed
multipart upload is atomic). They know nothing of digests' meaning, dedup or trees; the
``BlobStore`` above them does. Both place blobs at ``<root>/blobs/<2 hex>/<62 hex>``.

A ``Writer`` is a blob being written: bytes go in, then ``commit`` makes it appear under
its final name in one atomic step, or ``abort`` makes it as if it never was. This is the
seam that guarantees a name never holds bytes that do not match it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gannet.core.errors import GannetError, StoreError
from gannet.store.blobs.types import StoredObject

# Libraries whose exceptions mean "the storage could not do it" (rather than a bug of ours).
_STORAGE_LIBRARIES = frozenset(
    {"botocore", "aiobotocore", "aiohttp", "s3fs", "gcsfs", "adlfs", "google", "azure",
     "urllib3", "requests", "fsspec"}
)


def blob_name(hex_digest: str) -> str:
    """Relative name of a blob under the store root: ``blobs/ab/cdef...``."""
    return f"blobs/{hex_digest[:2]}/{hex_digest[2:]}"


class Writer(abc.ABC):
    """A blob being written; nothing is visible under a blob name before ``commit``."""

    @abc.abstractmethod
    def write(self, data: bytes | memoryview) -> None: ...

    @abc.abstractmethod
    def commit(self, hex_digest: str, size: int) -> None:
        """Make the bytes written so far the blob ``hex_digest`` (atomically)."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Throw the bytes away; safe to call after a failed commit, and twice."""


class Backend(abc.ABC):
    """Blobs by hex digest on one storage root."""

    location: str  # the store URL, for messages
    fs: Any  # the fsspec filesystem of the root
    root: str  # the root as an fsspec path of ``fs``

    @abc.abstractmethod
    def stat(self, hex_digest: str) -> int | None:
        """Size of the blob, or None when absent."""

    @abc.abstractmethod
    def open_read(self, hex_digest: str) -> tuple[Any, int]:
        """A raw reader (with ``readinto``) and the stored size; FileNotFoundError if absent."""

    @abc.abstractmethod
    def writer(self, hex_digest: str | None, size: int | None) -> Writer:
        """A writer for a blob; ``hex_digest`` is None when not yet known (a stream)."""

    @abc.abstractmethod
    def write_bytes(self, hex_digest: str, data: bytes) -> None:
        """Store a small, already verified blob in one atomic step."""

    @abc.abstractmethod
    def delete(self, hex_digest: str) -> None:
        """Remove the blob; no error when it is already gone."""

    def delete_many(self, hex_digests: list[str]) -> None:
        """Remove several blobs; no error for those already gone."""
        for hex_digest in hex_digests:
            self.delete(hex_digest)

    @abc.abstractmethod
    def iter_hex(self) -> Iterator[str]:
        """Hex digests of every stored blob (for garbage collection and audits)."""

    @abc.abstractmethod
    def iter_blobs(self) -> Iterator[StoredObject]:
        """Every stored blob (``name`` is its hex digest) with its size and write time."""

    @abc.abstractmethod
    def iter_temporary(self) -> Iterator[StoredObject]:
        """Uploads under ``tmp/`` (``name`` is a path of ``fs``): in flight, or left by a
        writer that died."""

    @abc.abstractmethod
    def delete_temporary(self, name: str) -> None:
        """Remove a temporary upload; no error when it is already gone."""

    def path(self, hex_digest: str) -> str:
        """The blob's path in ``fs``."""
        return f"{self.root}/{blob_name(hex_digest)}"


def is_storage_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the storage failed (network, permissions, disk), not our code."""
    if isinstance(exc, GannetError):
        return False
    if isinstance(exc, OSError):
        return True
    return any(
        (cls.__module__ or "").split(".")[0] in _STORAGE_LIBRARIES for cls in type(exc).__mro__
    )


def storage_error(location: str, doing: str, exc: BaseException) -> StoreError:
    """The ``StoreError`` a user sees for a storage failure: which store, doing what, and why."""
    remote = "://" in location and not location.startswith("file://")
    hint = (
        "check the endpoint URL, the network and the credentials (storage options, or "
        "AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for s3://), and that "
        "the bucket exists"
        if remote
        else "check that the folder exists and is writable, and that the disk is not full"
    )
    detail = str(exc) or type(exc).__name__
    return StoreError(f"artifact store {location} failed while {doing}: {detail}", hint)


@contextmanager
def translated(location: str, doing: str, *, missing_is_failure: bool = False) -> Iterator[None]:
    """Turn storage exceptions into ``StoreError``; FileNotFoundError passes through unless
    ``missing_is_failure`` (a missing bucket while writing is trouble, not an absent blob)."""
    try:
        yield
    except FileNotFoundError as exc:
        if missing_is_failure:
            raise storage_error(location, doing, exc) from exc
        raise
    except Exception as exc:
        if is_storage_failure(exc):
            raise storage_error(location, doing, exc) from exc
        raise
