"""Windows over the inference log: an hour, a day (UTC, aligned), or the last N rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gannet.core.errors import InvalidArgument

__all__ = ["Window", "parse_window"]

_SIZES = {"hour": 3_600_000, "day": 86_400_000}
_ROWS = re.compile(r"^(?:rows|last):(\d+)$")


@dataclass(frozen=True)
class Window:
    kind: str  # "hour", "day" or "rows"
    size: int  # ms for time windows, rows for "rows"

    def start_of(self, ts: int) -> int:
        """The start of the time window holding ``ts`` (ms)."""
        return ts - ts % self.size

    @property
    def timed(self) -> bool:
        return self.kind != "rows"


def parse_window(text: str) -> Window:
    """``hour``, ``day`` or ``rows:N`` (the last N rows at each run)."""
    value = (text or "").strip().lower()
    if value in _SIZES:
        return Window(value, _SIZES[value])
    match = _ROWS.match(value)
    if match and int(match.group(1)) > 0:
        return Window("rows", int(match.group(1)))
    raise InvalidArgument(f"{text!r} is not a window",
                          hint="use hour, day, or rows:N for the last N logged rows")
