"""Putting a version's files in a folder: reflinked where the filesystem can, else copied,
and verified against their digests either way.

Why never a hard link: a hard link is the store's own inode, so an edit of the checked-out
file in place (``open(path, "r+")``, an editor that does not write a new file) would
change the stored blob under its digest. A reflink (``FICLONE``: btrfs, XFS, bcachefs) is
a copy-on-write clone, a new inode whose first write copies the block, so editing it can
never touch the store; it costs no space until then. Every file is verified after it is
made: a corrupted blob is named and nothing is left under the target's name.

A folder being checked out holds ``.gannet-checkout`` (the manifest's digest) until every
file is in place, so a rerun after an interruption knows the folder is its own and only
writes the files still missing; files are written to a temporary name and renamed, so a
file under its real name is always whole.
"""

from __future__ import annotations

import errno
import fcntl
import os
import uuid
from dataclasses import dataclass

from gannet.core.digests import digest_file
from gannet.core.errors import IntegrityError
from gannet.data.packs import PackIndex
from gannet.store.blobs import BlobStore, Manifest, ManifestEntry
from gannet.store.blobs.store import check_inside
from gannet.store.blobs.transfer import run_parallel

MARKER = ".gannet-checkout"
FICLONE = 0x40049409  # <linux/fs.h>: _IOW(0x94, 9, int)
_NO_REFLINK = {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS,
               errno.EBADF, errno.EPERM}


@dataclass
class Tally:
    written: int = 0
    reflinked: int = 0
    present: int = 0
    bytes_written: int = 0


def materialise(packs: PackIndex, manifest: Manifest, root: str, threads: int) -> Tally:
    """Make ``root`` hold the manifest's files (others already there are left alone)."""
    blobs = packs.blobs
    os.makedirs(root, exist_ok=True)
    real_root = os.path.realpath(root)
    tally = Tally()
    todo: list[tuple[str, ManifestEntry]] = []
    for relative, entry in manifest.entries.items():
        target = os.path.join(root, *relative.split("/"))
        check_inside(real_root, target, root)
        if _already(target, entry):
            tally.present += 1
        else:
            todo.append((target, entry))
    local = blobs.is_local
    copies = todo
    if local and todo:
        cloned = run_parallel(lambda job: _reflink(blobs, *job), todo, threads)
        copies = [job for job, done in zip(todo, cloned, strict=True) if not done]
        tally.reflinked = len(todo) - len(copies)
    if copies:
        copies = _from_packs(packs, copies)
    if copies:
        blobs.get_files([(entry.digest, target) for target, entry in copies], within=root)
        for target, entry in copies:
            os.chmod(target, entry.mode)
    tally.written = len(todo)
    tally.bytes_written = sum(entry.size for _, entry in todo)
    return tally


def _from_packs(packs: PackIndex, copies: list[tuple[str, ManifestEntry]]
                ) -> list[tuple[str, ManifestEntry]]:
    """Write the files whose bytes lie in packs (read pack by pack, each verified); the
    files left are their own blobs."""
    targets: dict[str, list[tuple[str, ManifestEntry]]] = {}
    for target, entry in copies:
        targets.setdefault(entry.digest, []).append((target, entry))
    for digest, data in packs.read_packed(targets):
        for target, entry in targets.pop(digest):
            _write_whole(target, data, entry.mode)
    return [job for jobs in targets.values() for job in jobs]


def _write_whole(target: str, data: bytes, mode: int) -> None:
    """``target`` holds ``data`` (written beside it, then renamed over it)."""
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise


def _already(target: str, entry: ManifestEntry) -> bool:
    """A file with the entry's bytes is there already (its mode put right)."""
    try:
        if not os.path.isfile(target) or os.path.getsize(target) != entry.size:
            return False
        if digest_file(target)[0] != entry.digest:
            return False
    except OSError:
        return False
    if (os.stat(target).st_mode & 0o777) != entry.mode:
        os.chmod(target, entry.mode)
    return True


def _reflink(blobs: BlobStore, target: str, entry: ManifestEntry) -> bool:
    """Clone the blob to ``target`` and verify it; False where this filesystem cannot."""
    source = blobs.blob_path(entry.digest)
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(source, "rb") as src, open(tmp, "xb") as dst:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
    except OSError as exc:
        _unlink(tmp)
        if exc.errno in _NO_REFLINK or exc.errno == errno.ENOENT:
            return False  # copied instead (a missing blob then gets its own clear error)
        raise
    try:
        digest, size = digest_file(tmp)
        if digest != entry.digest or size != entry.size:
            raise IntegrityError(
                f"blob {entry.digest} in the artifact store {blobs.url} is corrupted: its "
                f"bytes hash to {digest}; nothing was written to {target}",
                "the stored copy is damaged: add the data again from its source (then run "
                "gannet gc), or restore the store from a backup",
            )
        os.chmod(tmp, entry.mode)
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise
    return True


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
