"""The caller's files, as the store reads them: listed, hashed, and watched for changes.

A file is hashed before it is stored (so a blob already present costs one read and no
write) and hashed again while it is copied; if the two disagree, or its size, mtime or
inode moved meanwhile, someone was writing it and whatever we copied is not a file that
ever existed, so nothing is stored and the caller is told.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

from gannet.core.digests import format_digest, hasher
from gannet.core.errors import InvalidArgument, NotFound
from gannet.store.blobs.types import check_path

CHUNK = 1 << 20  # bytes per read: 1 MiB stays in the CPU cache between hashing and writing


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file found under a folder given to ``put_tree``."""

    relative: str  # POSIX path inside the folder, as the manifest records it
    path: str
    mode: int
    size: int


def source_size(path: str) -> int:
    """Size of a regular file the caller asked to store; clear errors for anything else."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise NotFound(
            f"cannot store {path}: no such file", "check the path (relative paths are "
            f"relative to {os.getcwd()})"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        hint = "use put_tree for folders" if stat.S_ISDIR(info.st_mode) else (
            "pipes, sockets and devices cannot be stored as files; use put_stream"
        )
        raise InvalidArgument(f"cannot store {path}: it is {kind}", hint)
    return info.st_size


def scan_tree(folder: str) -> list[SourceFile]:
    """Every file under ``folder``, recursively, sorted by relative path."""
    if not os.path.exists(folder):
        raise NotFound(f"cannot store the folder {folder}: it does not exist", "check the path")
    if not os.path.isdir(folder):
        raise InvalidArgument(f"cannot store {folder} as a tree: it is not a folder",
                              "use put_file for a single file")

    def fail(exc: OSError) -> None:
        raise InvalidArgument(f"cannot list {exc.filename}: {exc.strerror}",
                              "check the folder's permissions") from exc

    found = []
    for here, folders, names in os.walk(folder, onerror=fail):
        for name in folders:
            if os.path.islink(os.path.join(here, name)):
                raise InvalidArgument(
                    f"cannot store {os.path.join(here, name)}: it is a link to a folder",
                    "links to folders are not followed (they can loop); replace it by a "
                    "copy, or store the folder it points to",
                )
        for name in names:
            found.append(_source_file(folder, os.path.join(here, name)))
    return sorted(found, key=lambda source: source.relative)


def _source_file(folder: str, path: str) -> SourceFile:
    relative = os.path.relpath(path, folder).replace(os.sep, "/")
    check_path(relative)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InvalidArgument(
            f"cannot store {path}: it is a broken link or vanished while the folder was listed",
            "fix or remove the link, then store the folder again",
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidArgument(f"cannot store {path}: it is not a regular file",
                              "remove pipes, sockets and devices from the folder")
    return SourceFile(relative, path, stat.S_IMODE(info.st_mode) & 0o777, info.st_size)


def hash_open_file(source: Any) -> tuple[str, int]:
    """Digest and size of what is left in an unbuffered file, in constant memory."""
    digest = hasher()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while n := read_into(source, buffer):
        digest.update(view[:n])
        size += n
    return format_digest(digest.hexdigest()), size


def read_whole(source: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes: a read may return less than asked before the end."""
    parts = []
    left = limit
    while left > 0 and (chunk := read_chunk(source, left)):
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_into(source: Any, buffer: bytearray) -> int:
    """``source.readinto``, where a failure is the source's, not the store's."""
    try:
        return source.readinto(buffer) or 0
    except OSError as exc:
        raise unreadable(source, exc) from exc


def read_chunk(source: Any, size: int) -> bytes:
    """``source.read``, where a failure is the source's, not the store's."""
    try:
        data = source.read(size)
    except OSError as exc:
        raise unreadable(source, exc) from exc
    if not isinstance(data, bytes | bytearray):
        # None: a non-blocking stream with nothing to read yet, which is not an end.
        raise InvalidArgument(
            f"cannot store from {source!r}: its read() returned {type(data).__name__}, "
            "not bytes",
            "pass a blocking stream opened in binary mode ('rb')",
        )
    return bytes(data) if isinstance(data, bytearray) else data


def unreadable(source: Any, exc: OSError) -> InvalidArgument:
    name = getattr(source, "name", None)
    what = f"file {name}" if isinstance(name, str) else "the stream"
    return InvalidArgument(f"cannot read {what}: {exc}; nothing was stored",
                           "check the source of the data, then store it again")


def check_unchanged(path: str, source: Any, before: os.stat_result) -> None:
    """Raise when the file behind ``source``, or the name ``path``, moved since ``before``."""
    after = os.fstat(source.fileno())
    try:
        now = os.stat(path)
    except FileNotFoundError:
        raise vanished(path) from None
    if _signature(after) != _signature(before) or now.st_ino != before.st_ino:
        raise changed(path)


def _signature(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ino


def changed(path: str) -> InvalidArgument:
    return InvalidArgument(
        f"file {path} changed while it was being stored; nothing was stored",
        "wait until whatever writes it has finished (or store a copy), then store it again",
    )


def vanished(path: str) -> InvalidArgument:
    return InvalidArgument(
        f"file {path} vanished while it was being stored; nothing was stored",
        "check what deletes it, then store it again",
    )
