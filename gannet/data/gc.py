"""What garbage collection needs to know of dataset versions (``BlobReferences``).

A version keeps alive its manifest blob, every blob the manifest lists and every pack
that holds one of those files (``gannet.data.packs``). A deleted
version keeps them for the grace period (it can still be looked at), then is ``purged``:
its row stays, so its number is never given again, but it keeps no blob.
``DataService`` inherits this.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from gannet.data import repository
from gannet.data.packs import packs_holding
from gannet.data.repack import repack
from gannet.store.gc.types import CLOCK_SLACK_MS, with_listed_files

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.gc.leases import BlobLeases
    from gannet.store.metadata import MetadataStore


class DatasetReferences:
    """A version keeps its manifest and the files it lists, as a model package does."""

    metadata: MetadataStore
    blobs: BlobStore
    leases: BlobLeases

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        """Purge versions deleted before ``before_ms``, then rewrite the packs that hold
        files only those (or earlier purged ones) listed (``repack``)."""
        with self.metadata.write() as conn:
            if dry_run:
                count = repository.count_deleted_before(conn, before_ms)
            else:
                count = repository.purge_deleted(conn, before_ms)
        if dry_run:
            return {"dataset_versions": count}
        with self.metadata.read() as conn:
            manifests = repository.kept_manifests(conn, before_ms)
        kept = with_listed_files(self.blobs, manifests)
        return {"dataset_versions": count,
                "dataset_packs_rewritten": repack(self.metadata, self.blobs, self.leases, kept)}

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            manifests = repository.kept_manifests(conn, deleted_since_ms)
        return self._with_packs(with_listed_files(self.blobs, manifests))

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            fresh = repository.manifests_since(conn, since_ms - CLOCK_SLACK_MS)
        return self._with_packs(with_listed_files(self.blobs, fresh)) & set(digests)

    def _with_packs(self, files: set[str]) -> set[str]:
        """``files`` and the packs that hold any of them."""
        return files | packs_holding(self.metadata, files)
