"""Versions made and read by clients elsewhere (the team server's side of ``gannet data``
with ``GANNET_URI``).

A remote client hashes its files where they are, asks ``missing_blobs`` which of their
digests the store lacks, uploads only those (``PUT /api/v1/blobs/{digest}``: kept only if
the bytes hash to the digest), then ``commit_version`` makes the version from the file list
(path, digest, size, mode), once every blob is there with that size. Reading goes the other
way: the version's manifest, then each file by path (``open_version_file``), which the
client verifies against its digest as it arrives.

Roles: reading a dataset needs the reader role in some project, writing one the editor
role (datasets belong to no project); embedded use checks nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO

from gannet.core.actor import EDITOR, READER, require_anywhere
from gannet.core.digests import digest_bytes, is_digest
from gannet.core.errors import InvalidArgument, InvalidState, NotFound
from gannet.data import repository
from gannet.data.refs import check_name, check_tag
from gannet.data.types import FILE, FOLDER, AddResult, DatasetVersion
from gannet.store.blobs import Manifest, ManifestEntry

if TYPE_CHECKING:
    from gannet.data.packs import PackIndex
    from gannet.store.blobs import BlobStore
    from gannet.store.gc.leases import BlobLeases
    from gannet.store.metadata import MetadataStore

__all__ = ["MAX_COLUMNS", "MAX_FILES", "RemoteFile", "VersionTransfers", "may_read", "may_write"]

MAX_FILES = 1_000_000
MAX_COLUMNS = 10_000
RemoteFile = tuple[str, str, int, int]  # path, digest, size, mode


def may_read(what: str = "read datasets") -> None:
    require_anywhere(READER, what)


def may_write(what: str) -> None:
    require_anywhere(EDITOR, what)


class VersionTransfers:
    metadata: MetadataStore
    blobs: BlobStore
    leases: BlobLeases

    def resolve(self, ref: str) -> DatasetVersion:
        raise NotImplementedError

    def packs(self) -> PackIndex:
        raise NotImplementedError

    def _latest_if_same(self, name: str, manifest_digest: str) -> DatasetVersion | None:
        raise NotImplementedError

    def _insert(self, name: str, manifest: Manifest, manifest_digest: str, kind: str,
                message: str, source: str, columns: tuple[str, ...]) -> DatasetVersion:
        raise NotImplementedError

    def _with_tags(self, version: DatasetVersion, tags: list[str]) -> DatasetVersion:
        raise NotImplementedError

    def missing_blobs(self, digests: Sequence[str]) -> list[str]:
        """Which of ``digests`` the blob store lacks (each once, in the order given)."""
        may_write("add datasets")
        wanted = list(dict.fromkeys(_checked_digest(d) for d in digests))
        return self.packs().missing(wanted)

    def commit_version(
        self,
        name: str,
        files: Sequence[RemoteFile],
        *,
        kind: str,
        message: str = "",
        tags: Sequence[str] = (),
        columns: Sequence[str] = (),
        source: str = "",
    ) -> AddResult:
        """A new version of ``name`` from files whose blobs are stored already; when they
        are the latest version's, no version is made (``created`` False), as ``add``."""
        may_write(f"add versions of dataset {name!r}")
        check_name(name)
        checked_tags = [check_tag(tag) for tag in tags]
        started = time.perf_counter()
        manifest = _manifest(files, kind)
        body = manifest.to_bytes()
        manifest_digest = digest_bytes(body)
        with self.leases.hold():  # the blobs are referenced before the lease ends
            version = self._latest_if_same(name, manifest_digest)
            if version is None:
                _check_stored(self.packs(), manifest)
                self.blobs.put_bytes(body)
                version = self._insert(name, manifest, manifest_digest, kind,
                                       message[:10_000], source[:1000], _columns(columns))
        created = version.manifest is not None
        version = self._with_tags(version, checked_tags)
        return AddResult(replace(version, manifest=manifest), created, len(files), 0, 0,
                         time.perf_counter() - started)

    def open_version_file(self, ref: str, path: str) -> tuple[BinaryIO, int, str]:
        """A reader of one file of the version ``ref``, its size and digest; the reader
        raises ``IntegrityError`` at its end if the stored bytes do not match."""
        version = self.resolve(ref)
        assert version.manifest is not None
        entry = version.manifest.entries.get(path)
        if entry is None:
            raise NotFound(f"dataset version {version.ref} has no file {path!r}",
                           f"list its files: gannet data show {version.ref} --json")
        return self.packs().open(entry.digest), entry.size, entry.digest


def _checked_digest(digest: object) -> str:
    if not isinstance(digest, str) or not is_digest(digest):
        raise InvalidArgument(f"{digest!r} is not a digest", "digests read blake3:<64 hex>")
    return digest


def _manifest(files: Sequence[RemoteFile], kind: str) -> Manifest:
    if kind not in (FILE, FOLDER):
        raise InvalidArgument(f"a version's kind is {FILE!r} or {FOLDER!r}, not {kind!r}",
                              "send the kind the files were scanned as")
    if not files:
        raise InvalidArgument("a version needs at least one file", "send the file list")
    if len(files) > MAX_FILES or (kind == FILE and len(files) != 1):
        raise InvalidArgument(f"a {kind} version of {len(files)} files cannot be made",
                              f"a file version has one file, a folder at most {MAX_FILES}")
    entries = {path: ManifestEntry(digest, size, mode) for path, digest, size, mode in files}
    if len(entries) != len(files):
        raise InvalidArgument("the file list names a path twice", "send each file once")
    return Manifest(entries)


def _check_stored(packs: PackIndex, manifest: Manifest) -> None:
    entries = list(manifest.entries.values())
    stored = packs.sizes([e.digest for e in entries])
    wrong = [e for e in entries if stored.get(e.digest) != e.size]
    if wrong:
        raise InvalidState(
            f"{len(wrong)} of the files are not in the artifact store, e.g. blob "
            f"{wrong[0].digest} of {wrong[0].size} bytes; no version was made",
            "send each missing blob first (PUT /api/v1/blobs/<digest>), then commit the "
            "version again",
        )


def _columns(columns: Sequence[str]) -> tuple[str, ...]:
    if len(columns) > MAX_COLUMNS or any(
            not isinstance(c, str) or len(c) > 1000 for c in columns):
        raise InvalidArgument("the version's column names are not a list of names",
                              f"send at most {MAX_COLUMNS} names of at most 1000 characters")
    return tuple(dict.fromkeys(columns))


def set_tags(metadata: MetadataStore, version: DatasetVersion,
             tags: list[str]) -> DatasetVersion:
    """``version`` with ``tags`` pointed at it (what ``add`` and a commit do with --tag)."""
    if not tags:
        return version
    with metadata.write() as conn:
        for tag in tags:
            repository.set_tag(conn, version.name, tag, version.version)
    return replace(version, tags=tuple(sorted({*version.tags, *tags})))
