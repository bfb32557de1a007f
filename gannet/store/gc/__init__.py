"""Garbage collection of the blob store: what no live record references goes, safely.

- ``types``: ``GcReport`` (what was, or would be, freed) and ``BlobReferences``, the
  protocol each capability that keeps blobs implements (tracking: run artifacts;
  registry: model packages): purge what was deleted long enough ago, name the blobs it
  still references, and re-check a few of them at the last moment
- ``tables`` / ``repository``: write leases, the rows a writer holds while it stores
  blobs and then commits the records that reference them
- ``leases``: ``BlobLeases.hold()``, what every writer of blobs wraps its writes in, or
  ``guard(conn)`` for small blobs written inside the transaction that references them
- ``service``: ``GarbageCollector.collect(older_than, dry_run)``: purge, mark, sweep

Why it is safe with writers running: a blob is removed only when it was written before
the collection started and longer ago than the grace period, no record references it
(checked again just before the removal), and no writer holds a lease at that moment
(new leases wait while a batch is removed, so a writer that finds a blob present has
always committed its reference before the collector looks again).
"""

from gannet.store.gc.leases import BlobLeases
from gannet.store.gc.types import BlobReferences, GcReport

__all__ = ["BlobLeases", "BlobReferences", "GcReport"]
