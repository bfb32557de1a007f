"""A dataset version's files between this machine and a team server.

Up (``hash_files``, ``upload``): files are hashed here in parallel (the stat cache skips
the unchanged ones), the server is asked which blobs it lacks, and only those are sent,
each streamed from disk (``PUT /api/v1/blobs/{digest}``; the server keeps it only if the
bytes hash to the digest). Down (``download_version``): into ``<home>/cache/data/versions/
<manifest hex>``, as an embedded ``open`` would have it: the file list must digest to the
version's manifest digest, each file to its digest as it streams to disk, and the folder
appears under its name only when whole (built beside it, then renamed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from gannet.core.digests import CHUNK, digest_bytes, digest_file
from gannet.core.errors import IntegrityError, InvalidArgument
from gannet.data import scan
from gannet.data.packs import PackIndex
from gannet.data.types import DatasetVersion
from gannet.remote.packages import FileBody, download_file
from gannet.remote.transport import Transport
from gannet.store.blobs import Manifest, ManifestEntry
from gannet.store.blobs.transfer import run_parallel

__all__ = ["download_version", "hash_files", "upload", "upload_stored", "version_path"]

PREFIX = "/api/v1"


def version_path(name: str, selector: str | int) -> str:
    return f"{PREFIX}/datasets/{quote(name, safe='')}/versions/{quote(str(selector), safe='')}"


def hash_files(files: list[scan.Found], threads: int,
               progress: scan.Progress | None) -> dict[str, str]:
    """relative path -> digest of ``files``, hashed in parallel; a file that changed while
    it was read is refused (as embedded ``add`` refuses it)."""
    total_bytes, lock, done = sum(f.size for f in files), threading.Lock(), [0, 0]

    def one(found: scan.Found) -> str:
        try:
            digest, size = digest_file(found.path)
        except PermissionError:
            raise InvalidArgument(f"cannot add {found.path}: it is not readable",
                                  "check its permissions, then add again") from None
        scan.check_as_listed(found)
        with lock:
            done[0] += 1
            done[1] += size
            if progress is not None:
                progress(done[0], len(files), done[1], total_bytes)
        return digest

    digests = run_parallel(one, files, threads)
    return {f.relative: d for f, d in zip(files, digests, strict=True)}


def upload(transport: Transport, sources: dict[str, scan.Found], threads: int) -> int:
    """Send the blobs (digest -> the file holding it) the server lacks; how many were sent."""
    asked = transport.call("POST", f"{PREFIX}/dataset-files/missing",
                           json={"digests": sorted(sources)}, retry_safe=True)
    missing = list(asked["missing"])

    def put(digest: str) -> None:
        found = sources[digest]
        transport.send("PUT", f"{PREFIX}/blobs/{quote(digest, safe=':')}",
                       content=FileBody(found.path),
                       headers={"content-type": "application/octet-stream",
                                "content-length": str(found.size)})

    run_parallel(put, missing, threads)
    return len(missing)


def upload_stored(transport: Transport, files: PackIndex, manifest: Manifest,
                  threads: int) -> int:
    """Send the blobs of ``manifest`` that the server lacks from another store (``files``:
    this machine's own, for ``gannet data push``); how many were sent."""
    sizes = {e.digest: e.size for e in manifest.entries.values()}
    asked = transport.call("POST", f"{PREFIX}/dataset-files/missing",
                           json={"digests": sorted(sizes)}, retry_safe=True)
    missing = list(asked["missing"])

    def put(digest: str) -> None:
        transport.send("PUT", f"{PREFIX}/blobs/{quote(digest, safe=':')}",
                       body=lambda: _StoredBody(files, digest),
                       headers={"content-type": "application/octet-stream",
                                "content-length": str(sizes[digest])})

    run_parallel(put, missing, threads)
    return len(missing)


class _StoredBody:
    """A stored file as a request body, read afresh (and verified) each time it is sent."""

    def __init__(self, files: PackIndex, digest: str) -> None:
        self.files = files
        self.digest = digest

    def __iter__(self) -> Iterator[bytes]:
        with self.files.open(self.digest) as reader:
            while chunk := reader.read(CHUNK):
                yield chunk


def download_version(transport: Transport, version: DatasetVersion, root: Path,
                     threads: int) -> None:
    """The version's files into ``root`` (absent), verified, made read-only, atomically."""
    manifest = checked_manifest(version)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root.parent))
    try:
        base = version_path(version.name, version.version) + "/files/"

        def one(item: tuple[str, ManifestEntry]) -> None:
            relative, entry = item
            target = tmp.joinpath(*relative.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            download_file(transport, base + quote(relative), target, entry)
            os.chmod(target, entry.mode & 0o555)  # shared by every open: read-only

        run_parallel(one, list(manifest.entries.items()), threads)
        try:
            os.rename(tmp, root)
        except OSError:
            if not root.is_dir():  # not "another process fetched it first"
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def checked_manifest(version: DatasetVersion) -> Manifest:
    """The version's file list, refused unless it is the one its manifest digest names."""
    manifest = version.manifest
    if manifest is None or digest_bytes(manifest.to_bytes()) != version.manifest_digest:
        raise IntegrityError(
            f"the server sent a file list for {version.ref} that is not its manifest "
            f"({version.manifest_digest})",
            "the server's store is damaged or the answer was altered; ask its operator",
        )
    return manifest


def sources_of(files: Sequence[scan.Found], digests: dict[str, str]) -> dict[str, scan.Found]:
    """digest -> one file holding it (identical files are sent once)."""
    return {digests[f.relative]: f for f in files}
