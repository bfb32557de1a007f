"""Sortable unique ids.

An id is 32 lowercase hex characters: 12 for the creation time in milliseconds, 20 random.
Sorting ids sorts by creation time (useful for keyset pagination and for humans), and the
shape matches MLflow's run ids so MLflow clients accept them unchanged.
"""

import os
import re
import threading
import time

_ID = re.compile(r"^[0-9a-f]{32}$")
_lock = threading.Lock()
_last = [0, 0]  # last (ms, random) handed out, to stay monotonic within one process


def new_id() -> str:
    """A new id, strictly greater than every id this process made before."""
    ms = time.time_ns() // 1_000_000
    with _lock:
        if ms <= _last[0]:
            ms, rand = _last[0], _last[1] + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # leave room to increment
        _last[0], _last[1] = ms, rand
    return f"{ms:012x}{rand:020x}"


def is_id(value: str) -> bool:
    return bool(_ID.match(value))
