"""Listing the caller's files for ``add``, and the stat cache that vouches for them.

The stat cache remembers, per source folder, each file's (size, mtime_ns, inode, device,
ctime_ns) and digest when it was stored, so re-adding a mostly unchanged folder hashes only the
files whose stat changed. A file modified in the last ``RACY_NS`` before the scan is not
remembered (its next write could keep the same mtime on a coarse clock, as git's "racily
clean" entries); it is hashed again next time. The ctime catches a file replaced by one
of the same size whose mtime was set back (``cp -p``, ``touch -r``) on a reused inode.
The cache only ever skips hashing: it is never trusted to say a blob is stored (``add``
checks that when it makes a version).

It needs neither the blob store nor the metadata store, so an unchanged re-add
(``gannet.data.unchanged``) can answer before either is opened.
"""

from __future__ import annotations

import os
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import orjson

from gannet.core.digests import digest_bytes
from gannet.core.errors import InvalidArgument, NotFound

RACY_NS = 2_000_000_000


class Found(NamedTuple):
    """A file as listed (a tuple: one is made per file, three times sooner than a frozen
    dataclass)."""

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
