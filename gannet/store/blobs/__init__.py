"""The content-addressed blob store: artifact bytes named by their blake3 digest.

- ``store``: ``BlobStore`` — put/get bytes, files, streams and folder trees, verified on
  every read, de-duplicated on every write, parallel for many files
- ``types``: ``BlobRef`` (digest + size), ``Manifest`` / ``ManifestEntry`` (a folder as
  sorted path -> digest, size, mode; stored as a blob in canonical JSON), ``StoredObject``
  (a listed blob or temporary upload with its size and write time, for garbage collection)
- ``reader``: the streaming reader that checks bytes against their digest as they pass
- ``sources``: reading the caller's files: listing folders, hashing, noticing changes
- ``backend``: the bytes layer's contract (``Backend``, ``Writer``) and storage errors
- ``local`` / ``remote``: that layer on a local folder / on an fsspec object store;
  ``opening``: which of them a store URL names
- ``transfer``: the thread pool and the progress bar for many files
- ``copying``: a stream copied into a blob while it is hashed, the writing a few chunks
  behind on a thread of its own
- ``parts``: a blob written piece by piece (``Appender``) and pieces of one read back,
  each verified against its own digest (``read_parts``): how data packs small files
- ``presigned``: signed S3 URLs for clients to send and fetch blobs directly (an upload
  is staged, and becomes a blob only once the server has checked it)

Layout under the root: ``blobs/<2 hex>/<62 hex>`` and ``tmp/`` for writes in flight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gannet.store.blobs.types import BlobRef, Manifest, ManifestEntry, StoredObject

if TYPE_CHECKING:
    from gannet.store.blobs.store import BlobStore

__all__ = ["BlobRef", "BlobStore", "Manifest", "ManifestEntry", "StoredObject"]


def __getattr__(name: str) -> Any:
    """``BlobStore`` loads on first use: a manifest or a digest alone needs none of it."""
    if name == "BlobStore":
        from gannet.store.blobs.store import BlobStore

        return BlobStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
