"""Write leases: a writer holds one from before it stores blobs until the records that
reference them are committed, so the garbage collector never removes a blob between a
writer finding it present (de-duplication) and the writer's reference landing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from gannet.core.clock import now_ms
from gannet.core.ids import new_id
from gannet.store.gc import repository
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# A lease older than this belongs to a writer that died; the collector ignores it.
LEASE_TTL_MS = 3600 * 1000


class BlobLeases:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def guard(self, conn: Connection) -> None:
        """Keep garbage collection out of the caller's write transaction until it ends: for
        small blobs stored (or found stored) inside the transaction that references them,
        at no extra transaction's cost."""
        repository.hold_off_collection(conn)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Store blobs and commit their references inside this block."""
        lease_id = new_id()
        with self.metadata.write() as conn:
            repository.insert_lease(conn, lease_id, now_ms())
        try:
            yield
        finally:
            with self.metadata.write() as conn:
                repository.delete_lease(conn, lease_id)
