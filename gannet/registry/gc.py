"""What garbage collection needs to know of model packages (``BlobReferences``).

A version's package is a manifest blob plus the blobs of its files, so the blobs a
package keeps alive are found by reading its manifest. A deleted version is a tombstone
(``DELETED``) for the grace period, then ``PURGED``: its row stays, so its number is
never given again, but its package no longer keeps blobs. The plots of versions'
responsible-AI reports are kept while their reports are. ``RegistryService`` inherits this.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from gannet.registry import report_repository, repository
from gannet.store.gc.types import CLOCK_SLACK_MS, with_listed_files

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore


class PackageReferences:
    metadata: MetadataStore
    blobs: BlobStore

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        with self.metadata.write() as conn:
            if dry_run:
                released = repository.count_deleted_before(conn, before_ms)
            else:
                released = repository.purge_deleted(conn, before_ms)
        return {"model_versions": released}

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            packages = repository.kept_packages(conn, deleted_since_ms)
            plots = report_repository.plot_digests(conn)
        return self._with_files(packages) | plots

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            fresh = repository.packages_since(conn, since_ms - CLOCK_SLACK_MS)
            plots = report_repository.plot_digests(conn, since_ms - CLOCK_SLACK_MS)
        return (self._with_files(fresh) | plots) & set(digests)

    def _with_files(self, packages: Iterable[str]) -> set[str]:
        return with_listed_files(self.blobs, packages)
