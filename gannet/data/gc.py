"""What garbage collection needs to know of dataset versions (``BlobReferences``).

A version keeps alive its manifest blob and every blob the manifest lists. A deleted
version keeps them for the grace period (it can still be looked at), then is ``purged``:
its row stays, so its number is never given again, but it keeps no blob.
``DataService`` inherits this.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from gannet.core.errors import GannetError
from gannet.data import repository

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore

CLOCK_SLACK_MS = 60_000  # versions made this long before a collection started: re-checked


class DatasetReferences:
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

    def _with_files(self, manifests: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for digest in manifests:
            found.add(digest)
            try:
                manifest = self.blobs.read_manifest(digest)
            except GannetError:
                continue  # the collector reports it missing
            found.update(entry.digest for entry in manifest.entries.values())
        return found
