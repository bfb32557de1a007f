"""Pre-signed S3 URLs, so that big artifacts go between a client and the object store
without passing through the team server (the ``server_presigned_urls`` setting).

A download is the blob's own object, signed for a GET: its bytes are what its name says
(every upload was verified), and the client checks the digest as they arrive anyway.

An upload never goes straight to a blob's name: whoever holds a signed PUT could write
any bytes there, and every later upload of the real bytes would be taken as already
stored. So the client puts its bytes under a staging key of ``tmp/`` (signed for that
key only), and ``commit_staged`` then makes them a blob: it copies them, inside the
store, to a key no client can write, hashes that copy, and only when it is the blob the
digest names copies it to the blob's key. The bytes cross the server's network once, as a
read from the store, never as an upload through it.
"""

from __future__ import annotations

import re
import uuid

from gannet.core.digests import format_digest, hasher
from gannet.core.errors import InvalidArgument, NotFound
from gannet.store.blobs.backend import translated
from gannet.store.blobs.store import CHUNK, BlobStore, mismatch
from gannet.store.blobs.types import BlobRef

__all__ = ["EXPIRES", "commit_staged", "download_url", "upload_url"]

EXPIRES = 3600  # seconds a signed URL stays good for
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def can_sign(store: BlobStore) -> bool:
    """Whether the store is an S3 bucket (the only kind signed URLs are made for)."""
    protocols = store.fs.protocol
    protocols = protocols if isinstance(protocols, tuple | list) else (protocols,)
    return "s3" in protocols or "s3a" in protocols


def download_url(store: BlobStore, digest: str) -> str | None:
    """A signed GET of the blob, or None when the store cannot sign."""
    if not can_sign(store):
        return None
    path = store.blob_path(digest)
    with translated(store.url, f"signing a download of blob {digest}"):
        return str(store.fs.url(path, expires=EXPIRES))


def upload_url(store: BlobStore) -> tuple[str, str] | None:
    """(staging token, signed PUT URL) for one upload, or None when the store cannot sign."""
    if not can_sign(store):
        return None
    token = uuid.uuid4().hex
    with translated(store.url, "signing an upload"):
        url = store.fs.url(_staged(store, token), expires=EXPIRES, client_method="put_object")
    return token, str(url)


def commit_staged(store: BlobStore, token: str, digest: str, size: int | None) -> BlobRef:
    """Make the bytes put under ``token`` the blob ``digest``, if they are (see above)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise InvalidArgument(f"{token!r} is not a staging token",
                              "use the token the upload URL came with")
    store.exists(digest)  # checks the digest's form
    fs, staged = store.fs, _staged(store, token)
    private = f"{store.root}/tmp/{uuid.uuid4().hex}"
    with translated(store.url, f"storing the staged upload of blob {digest}"):
        try:
            fs.copy(staged, private)
        except FileNotFoundError:
            if store.exists(digest):  # committed already: a retry whose answer was lost
                return BlobRef(digest, store.size(digest))
            raise NotFound(f"nothing was uploaded under staging token {token}",
                           "PUT the file to the signed URL first, then commit it") from None
        fs.rm_file(staged)
        try:
            actual, actual_size = _hash(store, private)
            if actual != digest or (size is not None and actual_size != size):
                raise mismatch(digest, size, actual, actual_size)
            if not store.exists(digest) or store.size(digest) != actual_size:
                fs.copy(private, store.blob_path(digest))
        finally:
            fs.rm_file(private)
    return BlobRef(digest, actual_size)


def _hash(store: BlobStore, path: str) -> tuple[str, int]:
    digest, size = hasher(), 0
    with store.fs.open(path, "rb", block_size=8 << 20) as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return format_digest(digest.hexdigest()), size


def _staged(store: BlobStore, token: str) -> str:
    return f"{store.root}/tmp/presigned-{token}"
