"""Content digests: blake3, written as ``blake3:<64 hex>`` wherever a digest is stored.

blake3 is fast (several GB/s, multithreaded on large inputs) and releases the GIL, so
hashing many files in parallel threads really runs in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import blake3

ALGORITHM = "blake3"
CHUNK = 1 << 20
_DIGEST = re.compile(r"^blake3:[0-9a-f]{64}$")


def hasher() -> blake3.blake3:
    return blake3.blake3()


def format_digest(hex_digest: str) -> str:
    return f"{ALGORITHM}:{hex_digest}"


def digest_bytes(data: bytes) -> str:
    return format_digest(blake3.blake3(data).hexdigest())


def hex_of_bytes(data: bytes) -> str:
    """The hex part alone: what a blob's path is made of, with no prefix to parse off."""
    return blake3.blake3(data).hexdigest()


def digest_chunks(chunks: Iterable[bytes]) -> str:
    h = blake3.blake3()
    for chunk in chunks:
        h.update(chunk)
    return format_digest(h.hexdigest())


def digest_stream(stream: BinaryIO) -> tuple[str, int]:
    """Digest and size of everything left in ``stream``, read in 1 MiB chunks."""
    h = blake3.blake3()
    size = 0
    while chunk := stream.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    return format_digest(h.hexdigest()), size


def digest_file(path: str | Path) -> tuple[str, int]:
    """Digest and size of a local file, read in chunks (memory stays flat for any size)."""
    with open(path, "rb") as stream:
        return digest_stream(stream)


def is_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


def hex_part(digest: str) -> str:
    """The hex of a ``blake3:<hex>`` digest (what blob paths are made of)."""
    if not is_digest(digest):
        raise ValueError(f"not a blake3 digest: {digest!r}")
    return digest.split(":", 1)[1]
