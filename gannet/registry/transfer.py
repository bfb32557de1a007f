"""A version's package across a network: what a remote client uploads to register a
package folder it holds, and reads to load a version it was given.

A package is content-addressed (a manifest of path -> digest, and the file blobs), so
the client sends digests first (``missing_blobs``), uploads only the blobs the store
lacks (as any blob, each checked against the digest it claims), then registers
the file list (``register_package``): the same checks as a folder registered here (the
files must be exactly those its ``gannet-model.yaml`` lists), the same signing. Reading
goes through the version (``package_manifest``, ``open_package_file``), so whoever may
read the version may read its bytes, and nothing else by digest. ``RegistryService``
inherits these use cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO

from gannet.core.digests import is_digest
from gannet.core.errors import InvalidArgument, NotFound
from gannet.models.manifest import MANIFEST
from gannet.models.reference import check_model_name
from gannet.registry import packages
from gannet.registry.types import ModelVersion, StoredPackage
from gannet.store.blobs import Manifest, ManifestEntry

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.gc import BlobLeases

MAX_FILES = 100_000  # files in one package registered from a list (a sanity bound)
UPLOADED = "the uploaded package"


class PackageTransfer:
    """Needs ``blobs``, ``leases``, ``get_model_version``, ``_run_exists``,
    ``_version_project`` and ``_register``."""

    blobs: BlobStore
    leases: BlobLeases

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        raise NotImplementedError

    def _run_exists(self, run_id: str) -> bool:
        raise NotImplementedError

    def _version_project(self, name: str, project: str | None) -> str:
        raise NotImplementedError

    def _register(
        self,
        found: tuple[StoredPackage, str | None, str],
        name: str,
        description: str,
        tags: Mapping[str, str] | None,
        project: str,
    ) -> ModelVersion:
        raise NotImplementedError

    # -- upload ----------------------------------------------------------------------------

    def missing_blobs(self, digests: Iterable[str]) -> list[str]:
        """Which of ``digests`` the blob store lacks (each once, in the order given)."""
        wanted = list(dict.fromkeys(_checked_digest(d) for d in digests))
        return [d for d in wanted if not self.blobs.exists(d)]

    def register_package(
        self,
        files: Sequence[tuple[str, str, int]],
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        source: str | None = None,
        project: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` from package files already in the blob store, given as
        (path, digest, size): a package folder's files that a client uploaded. ``source``
        is what the version's source shows (the client's folder); by default the package.
        ``project``: as ``register_model``'s (a new model's project)."""
        check_model_name(name)
        entries = _entries(files)
        home = self._version_project(name, project)
        with self.leases.hold():  # the blobs are referenced before the lease ends
            absent = [e.digest for e in entries.values() if not self.blobs.exists(e.digest)]
            if absent:
                raise NotFound(
                    f"{len(absent)} file(s) of the package are not uploaded: "
                    + ", ".join(sorted(p for p, e in entries.items() if e.digest in absent)[:5]),
                    "upload them first (missing_blobs tells which), then register again",
                )
            stored = packages.store_from_run_files(
                self.blobs, [(f"package/{p}", e.digest, e.size) for p, e in entries.items()],
                "package", UPLOADED)
            linked = stored.meta.run_id
            if linked is not None and not self._run_exists(linked):
                linked = None  # made elsewhere: no lineage here to link, as for a folder
            where = source or f"uploaded:{stored.package_digest}"
            return self._register((stored, linked, where), name, description, tags, home)

    # -- download --------------------------------------------------------------------------

    def package_manifest(self, name: str, version: int) -> Manifest:
        """The files of a version's package (path -> digest, size, mode)."""
        found = self.get_model_version(name, version)
        return self.blobs.read_manifest(found.package_digest)

    def open_package_file(self, name: str, version: int, path: str) -> tuple[BinaryIO, int]:
        """A reader of one file of a version's package and its size; the reader raises
        ``IntegrityError`` at its end if the stored bytes do not match their digest."""
        manifest = self.package_manifest(name, version)
        entry = manifest.entries.get(path)
        if entry is None:
            raise NotFound(
                f"the package of {name}/{version} has no file {path!r}",
                "list its files: GET .../package",
            )
        return self.blobs.open_blob(entry.digest), entry.size


def _checked_digest(digest: object) -> str:
    if not isinstance(digest, str) or not is_digest(digest):
        raise InvalidArgument(f"{digest!r} is not a digest", "digests read blake3:<64 hex>")
    return digest


def _entries(files: Sequence[tuple[str, str, int]]) -> dict[str, ManifestEntry]:
    """The files as manifest entries (paths checked as a manifest checks them)."""
    if not files:
        raise InvalidArgument("the package has no files", f"a package holds {MANIFEST} at least")
    if len(files) > MAX_FILES:
        raise InvalidArgument(f"a package of {len(files)} files is too many",
                              f"keep it under {MAX_FILES} files")
    entries: dict[str, ManifestEntry] = {}
    for path, digest, size in files:
        if path in entries:
            raise InvalidArgument(f"{path!r} is listed twice", "list each file once")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidArgument(f"the size of {path!r} must be a whole number >= 0")
        entries[path] = ManifestEntry(digest=_checked_digest(digest), size=size, mode=0o644)
    return Manifest(entries).entries
