"""A reader that checks a blob against its digest while it is being read.

Reading a blob and verifying it are one pass over the bytes: the digest is updated as
chunks go by, and the read that delivers the last byte raises ``IntegrityError`` instead
of returning when the bytes are not the ones the digest names. A caller that streams a
blob somewhere therefore never finishes with corrupt data without being told.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from gannet.core.digests import format_digest, hasher
from gannet.core.errors import IntegrityError

CHUNK = 1 << 20  # bytes per read: 1 MiB stays in the CPU cache between hashing and writing


class VerifyingReader(io.RawIOBase):
    """Reads exactly ``size`` bytes from ``raw`` and verifies them against ``digest``."""

    def __init__(
        self,
        raw: Any,
        *,
        digest: str,
        size: int,
        where: str,
        translate: Callable[[Exception], Exception | None] | None = None,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest
        self._size = size
        self._where = where
        self._translate = translate
        self._hash = hasher()
        self._read = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._verified:
            return 0
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._read)
        if want == 0:
            self._verify()
            return 0
        n = self._read_raw(view[:want])
        if not n:
            raise IntegrityError(
                f"blob {self._digest} in {self._where} is truncated: "
                f"{self._read} of {self._size} bytes could be read",
                "the stored copy is damaged; store the original file again",
            )
        self._hash.update(view[:n])
        self._read += n
        if self._read == self._size:
            self._verify()
        return n

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()

    def _read_raw(self, view: memoryview) -> int:
        try:
            return self._raw.readinto(view) or 0
        except Exception as exc:
            translated = self._translate(exc) if self._translate else None
            if translated is None:
                raise
            raise translated from exc

    def _verify(self) -> None:
        actual = format_digest(self._hash.hexdigest())
        if actual != self._digest:
            raise IntegrityError(
                f"blob {self._digest} in {self._where} does not match its digest "
                f"(its {self._size} bytes hash to {actual}): it was corrupted or tampered with",
                "delete it (BlobStore.delete) and store the original again",
            )
        self._verified = True


class Window(io.RawIOBase):
    """At most ``left`` bytes of ``raw`` (which is already at the window's start)."""

    def __init__(self, raw: Any, left: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")[: self._left]
        n = self._raw.readinto(view) if view else 0
        self._left -= n or 0
        return n or 0

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()
