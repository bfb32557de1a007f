"""``GarbageCollector``: purge what was deleted long enough ago, mark what is referenced,
sweep the rest (see the package docstring for why this is safe with writers running).

``older_than`` is both how long a deleted run or model version stays recoverable and the
grace period of a blob: only blobs written longer ago than that, and before the
collection started, can go. Deletion runs in batches, each under the lease lock, so an
interrupted collection leaves a consistent store and a rerun finishes the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.core.settings import Settings
from gannet.store.blobs import BlobStore, StoredObject
from gannet.store.gc import repository
from gannet.store.gc.leases import LEASE_TTL_MS
from gannet.store.gc.types import BlobReferences, GcReport
from gannet.store.metadata import MetadataStore

BATCH = 256
Progress = Callable[[int, int], None]  # (blobs looked at, of how many)


class GarbageCollector:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: BlobStore,
        sources: Sequence[BlobReferences],
        settings: Settings,
    ) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.sources = sources
        self.settings = settings

    def collect(
        self,
        older_than: float = 86400.0,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> GcReport:
        """Free what no record references: runs and model versions deleted more than
        ``older_than`` seconds ago, blobs only they referenced, and temporary uploads left
        behind. ``dry_run`` changes nothing and reports what would go."""
        if older_than < 0:
            raise InvalidArgument(f"older_than must be >= 0, got {older_than}", "e.g. 86400")
        started = now_ms()
        cutoff = started - int(older_than * 1000)
        report = GcReport(dry_run=dry_run, older_than_seconds=older_than)
        for source in self.sources:
            for kind, count in source.purge_deleted(cutoff, dry_run=dry_run).items():
                report.purged[kind] = report.purged.get(kind, 0) + count
        referenced: set[str] = set()
        for source in self.sources:
            referenced |= source.referenced_blobs(cutoff)
        listed = list(self.blobs.iter_blobs())
        report.missing = sorted(referenced - {found.name for found in listed})
        candidates = [
            found for found in listed
            if found.name not in referenced and found.modified * 1000 < cutoff
        ]
        report.blobs_kept = len(listed) - len(candidates)
        self._sweep(candidates, started, report, progress)
        self._sweep_temporary(cutoff, report)
        if not dry_run:
            with self.metadata.write() as conn:
                repository.delete_stale_leases(conn, started - LEASE_TTL_MS)
        return report

    def _sweep(
        self,
        candidates: list[StoredObject],
        started: int,
        report: GcReport,
        progress: Progress | None,
    ) -> None:
        for start in range(0, len(candidates), BATCH):
            batch = candidates[start : start + BATCH]
            if report.dry_run:
                report.blobs_deleted += len(batch)
                report.bytes_freed += sum(found.size for found in batch)
            elif not self._while_no_writer(partial(self._remove, batch, started, report)):
                report.skipped_busy += len(batch)
            if progress is not None:
                progress(min(start + BATCH, len(candidates)), len(candidates))

    def _remove(self, batch: list[StoredObject], started: int, report: GcReport) -> None:
        """The batch's blobs that are still unreferenced, looked at once more, go."""
        names = [found.name for found in batch]
        still: set[str] = set()
        for source in self.sources:
            still |= source.recheck_blobs(names, started)
        gone = [found for found in batch if found.name not in still]
        self.blobs.delete_many([found.name for found in gone])
        report.blobs_deleted += len(gone)
        report.bytes_freed += sum(found.size for found in gone)
        report.blobs_kept += len(batch) - len(gone)

    def _sweep_temporary(self, cutoff: int, report: GcReport) -> None:
        """Uploads under ``tmp/`` belong to writers holding a lease, or to writers that
        died: with no lease held (and none allowed to start), those older than the grace
        period go."""

        def sweep() -> None:
            for found in self.blobs.iter_temporary():
                if found.modified * 1000 >= cutoff:
                    continue
                if not report.dry_run:
                    self.blobs.delete_temporary(found.name)
                report.temporary_deleted += 1
                report.temporary_bytes_freed += found.size

        if report.dry_run:
            sweep()
        elif not self._while_no_writer(sweep):
            report.skipped_busy += 1

    def _while_no_writer(self, work: Callable[[], None]) -> bool:
        """Run ``work`` while no writer holds a lease and none can take one; wait for
        writers up to ``lock_timeout`` (False: they stayed busy, nothing was done).

        Leases are first looked at in a plain read: taking the write lock only when no
        writer holds one keeps the collector from starving the writers it waits for
        (SQLite hands its lock to whoever asks first, not to whoever waited longest).
        """
        deadline = time.monotonic() + self.settings.lock_timeout
        while True:
            if not self._writers_busy():
                with self.metadata.write() as conn:
                    repository.block_new_leases(conn)
                    if repository.live_leases(conn, now_ms() - LEASE_TTL_MS) == 0:
                        work()
                        return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def _writers_busy(self) -> bool:
        with self.metadata.read() as conn:
            return repository.live_leases(conn, now_ms() - LEASE_TTL_MS) > 0
