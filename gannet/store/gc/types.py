"""Garbage collection's plain types, and the protocol of what references blobs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol


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
