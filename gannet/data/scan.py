"""Storing the caller's files for ``add``: hashing and copying them in parallel, each
checked unchanged while it was read. Listing them and the stat cache are in ``listing``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, BinaryIO, cast

from gannet.core.digests import digest_file
from gannet.core.errors import InvalidArgument
from gannet.data.listing import RACY_NS, Found, Scanned, StatCache, scan, scan_known
from gannet.data.packs import PACK_UNDER, PackIndex, pack_files
from gannet.store.blobs import BlobRef, BlobStore
from gannet.store.blobs.transfer import run_parallel

__all__ = ["RACY_NS", "Found", "Scanned", "StatCache", "scan", "scan_known", "store_files"]

CHUNK_BYTES, CHUNK_FILES = 8 << 20, 512  # one thread's run of files (see _chunks)
ONE_PASS = 64 << 20  # files larger than this are copied while hashed, in one read
Progress = Callable[[int, int, int, int], None]  # files done, of, bytes done, of


def store_files(
    blobs: BlobStore, files: list[Found], threads: int, progress: Progress | None,
    hints: dict[str, str] | None = None, packs: PackIndex | None = None,
) -> dict[str, BlobRef]:
    """Hash and store ``files`` on ``threads`` threads; each file is checked unchanged
    while it was read (the store compares its stat before and after). A large file with a
    ``hints`` digest is hashed first: when the hash agrees and the blob is stored, nothing
    is copied (a file re-added just after it was written). With ``packs``, files under
    ``PACK_UNDER`` go into pack blobs (``gannet.data.packs``), on one thread of their own;
    ``packs.record()`` indexes them once the packs are durable."""
    hints = hints or {}
    total_files, total_bytes = len(files), sum(f.size for f in files)
    lock = threading.Lock()
    done = [0, 0]
    last = [0.0]

    def report(files_done: int, nbytes: int) -> None:
        with lock:
            done[0] += files_done
            done[1] += nbytes
            now = time.monotonic()
            if progress is not None and (now - last[0] > 0.1 or done[0] == total_files):
                last[0] = now
                progress(done[0], total_files, done[1], total_bytes)

    def one(found: Found, *, whole: bool) -> BlobRef:
        """Store one file; ``whole``: a small one, whose bytes its chunk reports at once."""
        advance = _ignore if whole else (lambda n: report(0, n))
        try:
            hint = hints.get(found.relative)
            ref = None
            if hint is not None and found.size > ONE_PASS:
                ref = _stored_already(blobs, found, hint)
            if ref is not None:
                report(0, found.size)
            elif found.size > ONE_PASS:
                ref = _put_one_pass(blobs, found, advance)
            else:
                ref = blobs.put_path(found.path, advance)
        except PermissionError:
            raise InvalidArgument(f"cannot add {found.path}: it is not readable",
                                  "check its permissions, then add again") from None
        check_as_listed(found)
        if not whole:
            report(1, 0)
        return ref

    def chunk_of(chunk: list[Found]) -> list[tuple[str, BlobRef]]:
        if len(chunk) == 1:
            return [(chunk[0].relative, one(chunk[0], whole=False))]
        refs = [(found.relative, one(found, whole=True)) for found in chunk]
        report(len(chunk), sum(f.size for f in chunk))
        return refs

    def runs_of(runs: list[list[Found]]) -> list[tuple[str, BlobRef]]:
        return [pair for run in runs for pair in chunk_of(run)]

    done_tasks = run_parallel(lambda task: task(),
                              _thread_tasks(blobs, files, packs, runs_of, report), threads)
    return dict(pair for task in done_tasks for pair in task)


def _thread_tasks(
    blobs: BlobStore, files: list[Found], packs: PackIndex | None,
    runs_of: Callable[[list[list[Found]]], list[tuple[str, BlobRef]]],
    report: Callable[[int, int], None],
) -> list[Callable[[], list[tuple[str, BlobRef]]]]:
    """What each thread does: the files to pack (one task), then runs of the others."""
    packed = [] if packs is None else [f for f in files if f.size < PACK_UNDER]
    own = [f for f in files if f.size >= PACK_UNDER] if packed else files
    tasks: list[Callable[[], list[tuple[str, BlobRef]]]] = [
        partial(runs_of, runs)
        for runs in _tasks(_chunks(own), one_thread_for_small=blobs.is_local)]
    if packs is not None and packed:
        tasks.insert(0, lambda: list(pack_files(blobs, packs, packed, report).items()))
    return tasks


def _ignore(nbytes: int) -> None:
    """Bytes of a small file: its run reports them when it ends."""


def _tasks(chunks: list[list[Found]], *, one_thread_for_small: bool) -> list[list[list[Found]]]:
    """The runs each thread task takes. Into a local store, every run of small files goes
    to one task: threads handing the interpreter's lock to each other around every short
    system call spend longer waiting than working (20,000 files of 1-4 KiB into a store on
    tmpfs, here: 1.8 s on one thread, 5.9 to 6.9 s on eight). Big files, and any file
    bound for an object store (where each write waits on the network), get a task each."""
    if not one_thread_for_small:
        return [[chunk] for chunk in chunks]
    small = [chunk for chunk in chunks if len(chunk) > 1]
    return ([small] if small else []) + [[chunk] for chunk in chunks if len(chunk) == 1]


def _chunks(files: list[Found], nbytes: int = CHUNK_BYTES, count: int = CHUNK_FILES
            ) -> list[list[Found]]:
    """``files`` in order, cut into runs of about ``nbytes`` or ``count`` files: the unit
    of progress reports and, into an object store, of thread tasks (``_tasks``), so
    thousands of small files cost neither a task nor a report each."""
    out: list[list[Found]] = []
    current: list[Found] = []
    size = 0
    for found in files:
        if found.size >= nbytes:  # a big file is a run of its own, its bytes reported as read
            out.append([found])
            continue
        current.append(found)
        size += found.size
        if size >= nbytes or len(current) >= count:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


def check_as_listed(found: Found) -> None:
    """The file read is the one listed: one that changed between the listing and the read
    was stored consistently, but the version would not be the folder as it was listed."""
    try:
        now = os.stat(found.path)
    except FileNotFoundError:
        now = None
    if now is None or [now.st_size, now.st_mtime_ns, now.st_ino, now.st_dev,
                       now.st_ctime_ns] != found.key:
        raise InvalidArgument(
            f"file {found.path} changed while it was being added; no version was made",
            "wait until whatever writes it has finished (or add a copy), then add again",
        )


def _stored_already(blobs: BlobStore, found: Found, hint: str) -> BlobRef | None:
    """The stored blob of ``found`` when its bytes hash to ``hint`` and that blob is in the
    store (``check_as_listed`` afterwards catches a file changed while it was hashed)."""
    digest, size = digest_file(found.path)
    if digest == hint and size == found.size and blobs.exists(digest):
        return BlobRef(digest, size)
    return None


def _put_one_pass(blobs: BlobStore, found: Found, advance: Callable[[int], None]) -> BlobRef:
    """Copy a large file into the store while hashing it: one read instead of the two of a
    hash-then-copy (which saves the write of a blob already stored; a large file that was
    not known to the stat cache is seldom stored already). Its stat is compared before
    and after: bytes of a file being written get no version (the blob is a consistent
    copy of what was read, and ``gannet gc`` removes it)."""
    with open(found.path, "rb", buffering=0) as source:
        before = os.fstat(source.fileno())
        ref = blobs.put_stream(cast(BinaryIO, _Counted(source, advance)))
        after = os.fstat(source.fileno())
    same = [after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev, after.st_ctime_ns]
    if same != [before.st_size, before.st_mtime_ns, before.st_ino, before.st_dev,
                before.st_ctime_ns] or ref.size != before.st_size:
        raise InvalidArgument(
            f"file {found.path} changed while it was being added; no version was made",
            "wait until whatever writes it has finished (or add a copy), then add again",
        )
    return ref


class _Counted:
    """A binary reader that tells ``advance`` how many bytes each read returned."""

    def __init__(self, source: Any, advance: Callable[[int], None]) -> None:
        self._source = source
        self._advance = advance
        self.name = source.name

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._source.read(size)
        self._advance(len(data))
        return data
