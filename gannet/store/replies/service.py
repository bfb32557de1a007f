"""``ReplyStore``: the claim-run-keep protocol behind ``Idempotency-Key``.

``claim`` before acting: ``None`` means this attempt acts; a ``Reply`` means another
attempt claimed the key first (answered: give its answer; still running: ask the caller to
retry later). ``keep`` the answer afterwards, or ``release`` the key when the attempt
failed on the server's side, so that a retry acts afresh.

The window this cannot close: a server that dies after the route's own transaction
committed and before ``keep``. Its claim stays "running"; after ``STALE_MS`` a retry takes
it over and acts again. Tracking's batches avoid even that by claiming inside their own
transaction (``gannet.tracking.batch_repository``).
"""

from __future__ import annotations

from gannet.core.clock import now_ms
from gannet.store.metadata import MetadataStore
from gannet.store.replies import repository as sql
from gannet.store.replies.types import Reply

__all__ = ["KEEP_MS", "STALE_MS", "Reply", "ReplyStore"]

STALE_MS = 120_000  # a claim still running after 2 minutes belongs to a dead server
KEEP_MS = 24 * 3600_000  # answers are kept a day: longer than any client retries
_PRUNE_EVERY = 1000


class ReplyStore:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata
        self._claims = 0

    def claim(self, key: str, fingerprint: str) -> Reply | None:
        now = now_ms()
        self._claims += 1
        if self._claims % _PRUNE_EVERY == 1:
            self.metadata.transaction(lambda conn: sql.prune(conn, now - KEEP_MS))
        found = self.metadata.transaction(lambda conn: sql.claim(conn, key, fingerprint, now))
        if found is None or found.answered or found.fingerprint != fingerprint:
            return found
        taken = self.metadata.transaction(
            lambda conn: sql.take_over(conn, key, now - STALE_MS, now))
        return None if taken else found

    def keep(self, key: str, status: int, content_type: str, body: bytes) -> None:
        self.metadata.transaction(lambda conn: sql.keep(conn, key, status, content_type, body))

    def release(self, key: str) -> None:
        self.metadata.transaction(lambda conn: sql.release(conn, key))
