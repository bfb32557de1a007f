"""Choosing a route per request: canary weights, sticky A/B, shadows.

- Weighted random: a uniform draw in ``[0, total weight)`` picks the route whose slice of
  the cumulative weights holds it (a canary at weight 10 beside 90 gets ~10%).
- Sticky: when the deployment names a ``sticky_key`` and the request carries it (as a
  header, a top-level JSON field, a V2 ``parameters`` entry, or the first value of a column
  of that name), its value is hashed (blake2b, the same in every process and replica) into
  the same weight space, so one caller always lands on the same route while the shares
  still follow the weights.
- Shadows get a copy of each request in a background task, off the request's path. The
  task count is bounded: when shadows fall behind, copies are dropped (and counted), never
  queued without limit - a slow shadow must not slow or fail the main request.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["Router", "ShadowSender", "sticky_value"]

T = TypeVar("T")
_SCALE = float(2**64)


class Router(Generic[T]):
    """Routes with weights (> 0) and shadow targets; ``choose`` picks one route.

    Its ValueErrors guard invariants, not input: the routes come from a DeploymentState
    that ``DeploymentService`` validated (at least one route, weights > 0).
    """

    def __init__(
        self,
        routes: Sequence[tuple[T, float]],
        shadows: Sequence[T] = (),
        sticky_key: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not routes:
            raise ValueError("a router needs at least one route")
        if any(w <= 0 for _, w in routes):
            raise ValueError("route weights must be > 0")
        self.targets = [target for target, _ in routes]
        self.cumulative: list[float] = []
        total = 0.0
        for _, weight in routes:
            total += float(weight)
            self.cumulative.append(total)
        self.total = total
        self.shadows = list(shadows)
        self.sticky_key = sticky_key
        self._random = (rng or random.Random()).random

    def choose(self, sticky: str | None = None) -> T:
        if len(self.targets) == 1:
            return self.targets[0]
        point = (_unit(sticky) if sticky is not None else self._random()) * self.total
        index = bisect.bisect_right(self.cumulative, point)
        return self.targets[min(index, len(self.targets) - 1)]


def _unit(value: str) -> float:
    """``value`` hashed to [0, 1): stable across processes, machines and Python versions."""
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def sticky_value(key: str | None, headers: Mapping[str, str], doc: Any) -> str | None:
    """The caller's value of the sticky key: a header, else a field of the JSON body."""
    if not key:
        return None
    found = headers.get(key.lower())
    if found is not None:
        return found
    if isinstance(doc, dict):
        for holder in (doc, doc.get("parameters")):
            if isinstance(holder, dict) and key in holder and holder[key] is not None:
                return _text(holder[key])
        found = _first_of_column(key, doc)
    elif isinstance(doc, list) and doc and isinstance(doc[0], dict):
        found = doc[0].get(key)
    return None if found is None else _text(found)


def _first_of_column(key: str, doc: dict) -> Any:
    records = doc.get("records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        return records[0].get(key)
    for name in ("columns", "inputs"):
        columns = doc.get(name)
        if isinstance(columns, dict) and isinstance(columns.get(key), list) and columns[key]:
            return columns[key][0]
        if isinstance(columns, list):  # V2 inputs
            for item in columns:
                if isinstance(item, dict) and item.get("name") == key:
                    data = item.get("data")
                    while isinstance(data, list) and data:
                        data = data[0]
                    return data
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class ShadowSender:
    """Runs shadow copies as background tasks, at most ``limit`` at a time."""

    def __init__(self, limit: int = 256, on_drop: Callable[[], None] | None = None) -> None:
        self.limit = limit
        self.on_drop = on_drop
        self._tasks: set[asyncio.Task] = set()

    def send(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Start ``work()`` in the background; False (and counted) when too many run."""
        if len(self._tasks) >= self.limit:
            if self.on_drop is not None:
                self.on_drop()
            return False
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    @staticmethod
    async def _guarded(work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception:  # a shadow's failure is its own: logged by ``work``, never raised
            pass

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for the shadow copies still running."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
