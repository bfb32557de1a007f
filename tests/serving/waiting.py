"""Waiting on a condition instead of sleeping a fixed time: fast when things are fast,
patient (up to a deadline) when the machine is busy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.02,
               what: str = "the condition") -> T:
    """``predicate()``'s first truthy value, polled every ``interval`` s; TimeoutError
    naming ``what`` when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(interval)
