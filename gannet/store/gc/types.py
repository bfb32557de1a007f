"""Garbage collection's plain types, and the protocol of what references blobs."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from gannet.core.errors import GannetError

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore

# Records made this long before a collection started are re-checked too (clocks of the
# machines writing them may be a little behind the collector's).
CLOCK_SLACK_MS = 60_000


class BlobReferences(Protocol):
    """A capability whose records reference blobs (tracking, the registry, ...)."""

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        """Remove for good what was deleted before ``before_ms`` (or count it, when
        ``dry_run``); returns counts by kind, e.g. ``{"runs": 3}``."""
        ...

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        """Every digest a live record references, and those of records deleted at or after
        ``deleted_since_ms`` (kept until they are older than the grace period)."""
        ...

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        """Which of ``digests`` are referenced now (records made at or after ``since_ms``
        included): the last look before they are removed."""
        ...


def with_listed_files(blobs: BlobStore, manifests: Iterable[str]) -> set[str]:
    """The manifests and every file blob they list (a model package, a dataset version):
    a manifest that cannot be read keeps only itself, and the collector reports it."""
    found: set[str] = set()
    for digest in manifests:
        found.add(digest)
        try:
            manifest = blobs.read_manifest(digest)
        except GannetError:
            continue
        found.update(entry.digest for entry in manifest.entries.values())
    return found


@dataclass
class GcReport:
    """What a collection freed, or (``dry_run``) would free."""

    dry_run: bool
    older_than_seconds: float
    purged: dict[str, int] = field(default_factory=dict)  # kind -> records removed for good
    blobs_deleted: int = 0
    bytes_freed: int = 0
    temporary_deleted: int = 0
    temporary_bytes_freed: int = 0
    blobs_kept: int = 0  # stored blobs still referenced or too young
    skipped_busy: int = 0  # blobs (and the tmp/ sweep, as 1) left: writers stayed busy
    missing: list[str] = field(default_factory=list)  # referenced digests the store lacks

    @property
    def total_bytes_freed(self) -> int:
        return self.bytes_freed + self.temporary_bytes_freed
