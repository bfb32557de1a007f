"""Reading the caller's files for ``add``: listing, the stat cache, hashing in parallel.

The stat cache remembers, per source folder, each file's (size, mtime_ns, inode, device,
ctime_ns) and digest when it was stored, so re-adding a mostly unchanged folder hashes only the
files whose stat changed. A file modified in the last ``RACY_NS`` before the scan is not
remembered (its next write could keep the same mtime on a coarse clock, as git's "racily
clean" entries); it is hashed again next time. The ctime catches a file replaced by one
of the same size whose mtime was set back (``cp -p``, ``touch -r``) on a reused inode.
The cache only ever skips hashing: it is never trusted to say a blob is stored (``add``
checks that when it makes a version).
"""

from __future__ import annotations

import os
import stat
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson

from gannet.core.digests import digest_bytes, digest_file
from gannet.core.errors import InvalidArgument, NotFound
from gannet.store.blobs import BlobRef, BlobStore
from gannet.store.blobs.transfer import run_parallel

RACY_NS = 2_000_000_000
CHUNK_BYTES, CHUNK_FILES = 8 << 20, 512  # one thread's run of files (see _chunks)
ONE_PASS = 64 << 20  # files larger than this are copied while hashed, in one read
Progress = Callable[[int, int, int, int], None]  # files done, of, bytes done, of


@dataclass(frozen=True, slots=True)
class Found:
    relative: str  # the manifest path (POSIX)
    path: str
    mode: int
    size: int
    mtime_ns: int
    ino: int
    dev: int
    ctime_ns: int

    @property
    def key(self) -> list[int]:
        return [self.size, self.mtime_ns, self.ino, self.dev, self.ctime_ns]


def scan(source: str) -> tuple[str, list[Found]]:
    """(``file`` or ``folder``, the files to store). Their paths are checked by the
    ``Manifest`` made of them (a path the stat cache knows was checked when it was
    remembered), so listing costs one ``stat`` per file and little else."""
    try:
        info = os.stat(source)
    except FileNotFoundError:
        if os.path.islink(source):
            raise InvalidArgument(f"cannot add {source}: it is a broken link",
                                  "fix the link, or add what it should point to") from None
        raise NotFound(f"cannot add {source}: no such file or folder",
                       f"check the path (relative paths start at {os.getcwd()})") from None
    except OSError as exc:
        raise InvalidArgument(f"cannot add {source}: {exc.strerror}",
                              "check the path and its permissions") from None
    if stat.S_ISDIR(info.st_mode):
        found: list[Found] = []
        _walk(source, "", found, {(info.st_dev, info.st_ino)})
        if not found:
            raise InvalidArgument(f"cannot add {source}: the folder has no files",
                                  "add a folder with at least one file")
        return "folder", found  # in no particular order: a Manifest sorts its entries
    name = os.path.basename(os.path.abspath(source))
    return "file", [_file(source, name, info)]


def _walk(folder: str, prefix: str, found: list[Found], seen: set[tuple[int, int]]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise InvalidArgument(f"cannot list {folder}: {exc.strerror}",
                              "check the folder's permissions") from None
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        try:
            info = entry.stat()
        except OSError as exc:
            raise InvalidArgument(
                f"cannot add {entry.path}: {exc.strerror} (a broken link or a link loop?)",
                "fix or remove the link, then add again",
            ) from None
        if stat.S_ISDIR(info.st_mode):
            if entry.is_symlink() or (info.st_dev, info.st_ino) in seen:
                raise InvalidArgument(
                    f"cannot add {entry.path}: it is a link to a folder",
                    "links to folders are not followed (they can loop); replace it by a "
                    "copy, or add the folder it points to",
                )
            _walk(entry.path, relative + "/", found, seen | {(info.st_dev, info.st_ino)})
        else:
            found.append(_file(entry.path, relative, info))


def _file(path: str, relative: str, info: os.stat_result) -> Found:
    if not stat.S_ISREG(info.st_mode):
        raise InvalidArgument(
            f"cannot add {path}: it is not a regular file (a pipe, socket or device)",
            "remove it from the folder (or copy its content to a file), then add again",
        )
    return Found(relative, path, stat.S_IMODE(info.st_mode) & 0o777, info.st_size,
                 info.st_mtime_ns, info.st_ino, info.st_dev, info.st_ctime_ns)


class StatCache:
    """``relative -> [size, mtime_ns, ino, dev, ctime_ns, digest]`` for one source, and
    the digest of the manifest they made, in one JSON file."""

    def __init__(self, folder: Path, source: str) -> None:
        key = digest_bytes(os.path.abspath(source).encode("utf-8"))[7:39]
        self.file = folder / f"{key}.json"
        self.entries: dict[str, list] = {}
        self.manifest: str | None = None  # when every file then was remembered

    def load(self) -> StatCache:
        try:
            loaded = orjson.loads(self.file.read_bytes())
            self.entries = dict(loaded["files"])
            self.manifest = loaded.get("manifest")
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self.entries, self.manifest = {}, None
        return self

    def manifest_of(self, files: list[Found], known: dict[str, str]) -> str | None:
        """The manifest digest of ``files`` without building it: when every file is known
        unchanged and they are exactly the files remembered, it is the one remembered."""
        if len(known) == len(files) == len(self.entries) and self.manifest is not None:
            return self.manifest
        return None

    def known(self, found: Found) -> str | None:
        entry = self.entries.get(found.relative)
        if entry and len(entry) == 6 and entry[:5] == found.key:
            return str(entry[5])
        return None

    def hint(self, found: Found) -> str | None:
        """The digest a file had when it was stored racily fresh, if its size is the same:
        never trusted to skip hashing, only to skip the copy when the hash agrees."""
        entry = self.entries.get(found.relative)
        if entry and len(entry) == 7 and entry[0] == found.size:
            return str(entry[5])
        return None

    def save(self, files: list[Found], digests: dict[str, str], scanned_ns: int,
             manifest: str) -> None:
        """Remember the files whose stat is not racy (see the module docstring), and the
        manifest when all of them are remembered; racy ones are kept as hints only."""
        entries = {
            f.relative: [*f.key, digests[f.relative], *([] if settled else [1])]
            for f in files if f.relative in digests
            for settled in [f.mtime_ns < scanned_ns - RACY_NS]
        }
        settled_count = sum(1 for entry in entries.values() if len(entry) == 6)
        whole = manifest if settled_count == len(files) else None
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{self.file.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_bytes(orjson.dumps({"files": entries, "manifest": whole}))
        os.replace(tmp, self.file)


@dataclass
class Scanned:
    """A source as listed now: its files, and the digests its stat cache already knows;
    ``todo`` are the files to read (new or changed since the cache was saved)."""

    kind: str
    files: list[Found]
    cache: StatCache
    digests: dict[str, str]
    todo: list[Found]
    scanned_ns: int
    hints: dict[str, str]  # todo files' digests when they were last stored (racy: unsure)


def scan_known(source: str, cache_folder: Path, *, use_cache: bool) -> Scanned:
    """``scan`` the source, then ask its stat cache (under ``cache_folder``) which files it
    can vouch for: what an add, embedded or through a server, starts from."""
    scanned_ns = time.time_ns()
    kind, files = scan(source)
    cache = StatCache(cache_folder, source)
    if use_cache:
        cache.load()
    digests = {f.relative: d for f in files if (d := cache.known(f)) is not None}
    todo = [f for f in files if f.relative not in digests]
    hints = {f.relative: h for f in todo if (h := cache.hint(f)) is not None}
    return Scanned(kind, files, cache, digests, todo, scanned_ns, hints)


def store_files(
    blobs: BlobStore, files: list[Found], threads: int, progress: Progress | None,
    hints: dict[str, str] | None = None,
) -> dict[str, BlobRef]:
    """Hash and store ``files`` on ``threads`` threads; each file is checked unchanged
    while it was read (the store compares its stat before and after). A large file with a
    ``hints`` digest is hashed first: when the hash agrees and the blob is stored, nothing
    is copied (a file re-added just after it was written)."""
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

    tasks = _tasks(_chunks(files), one_thread_for_small=blobs.is_local)
    done_tasks = run_parallel(runs_of, tasks, threads)
    return dict(pair for task in done_tasks for pair in task)


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
