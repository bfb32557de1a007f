"""What garbage collection needs to know of dataset versions (``BlobReferences``).

A version keeps alive its manifest blob and every blob the manifest lists. A deleted
version keeps them for the grace period (it can still be looked at), then is ``purged``:
its row stays, so its number is never given again, but it keeps no blob.
``DataService`` inherits this.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from gannet.data import repository
from gannet.registry.gc import CLOCK_SLACK_MS, PackageReferences

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore


class DatasetReferences(PackageReferences):
    """The registry's references, read from dataset versions: a manifest and its files
    (``_with_files``) are what a package is, too."""

    metadata: MetadataStore
    blobs: BlobStore

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        with self.metadata.write() as conn:
            if dry_run:
                count = repository.count_deleted_before(conn, before_ms)
            else:
                count = repository.purge_deleted(conn, before_ms)
        return {"dataset_versions": count}

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            manifests = repository.kept_manifests(conn, deleted_since_ms)
        return self._with_files(manifests)

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            fresh = repository.manifests_since(conn, since_ms - CLOCK_SLACK_MS)
        return self._with_files(fresh) & set(digests)
