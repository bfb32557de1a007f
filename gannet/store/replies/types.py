"""What the replies store returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """A claimed key: the request it was for (``fingerprint``) and, once answered, the
    answer (``status`` 0 while the first attempt runs)."""

    fingerprint: str
    status: int
    content_type: str
    body: bytes
    created_time: int

    @property
    def answered(self) -> bool:
        return self.status != 0
