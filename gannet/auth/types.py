"""Auth's plain domain types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    """One audited change: who did what to which thing, when, and the detail (why, from, to)."""

    time: int
    user_id: str
    action: str
    target: str
    detail: dict[str, Any]
