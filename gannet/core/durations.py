"""Durations as people type them: ``90s``, ``15m``, ``12h``, ``1d``, ``2w``, ``0s``, or
seconds as a plain number."""

from __future__ import annotations

import re

from gannet.core.errors import InvalidArgument

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str | float) -> float:
    """Seconds in ``text`` (``1d`` is 86400.0); an unreadable or negative one is refused."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise InvalidArgument(f"a duration cannot be negative, got {text!r}", "e.g. 1d")
        return float(text)
    found = _DURATION.match(str(text).lower())
    if not found:
        raise InvalidArgument(
            f"cannot read {text!r} as a duration",
            "write a number and a unit: 30s, 15m, 12h, 1d, 2w (or 0s)",
        )
    number, unit = found.groups()
    return float(number) * UNITS[unit or "s"]


def format_duration(seconds: float) -> str:
    """The largest whole unit that fits: ``86400`` -> ``1d``, ``90`` -> ``90s``."""
    for unit in ("w", "d", "h", "m"):
        if seconds >= UNITS[unit] and seconds % UNITS[unit] == 0:
            return f"{int(seconds // UNITS[unit])}{unit}"
    return f"{seconds:g}s"
