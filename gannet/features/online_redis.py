"""The online store in Redis (team mode): one key per (view, entity key),
``gannet:<namespace>:features:<view>:<entity key>``, holding the same JSON array as the
SQLite store. Reads are one ``MGET``; writes one script call per 5,000 entities, keeping
the newer value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gannet.core.errors import Unavailable

_BATCH = 5000
# set each key unless the value stored has a newer event time (a backfill never overwrites
# fresher values); the payload starts with "[<event time>,"
_NEWER_WINS = """
for i, key in ipairs(KEYS) do
  local old = redis.call('GET', key)
  if (not old) or tonumber(string.match(old, '^%[(%-?%d+)')) <= tonumber(ARGV[2*i-1]) then
    redis.call('SET', key, ARGV[2*i])
  end
end
return 0
"""


class RedisOnlineStore:
    def __init__(self, url: str, namespace: str = "") -> None:
        self.url = url
        # one Redis may serve several Gannet installations: each has its own namespace
        self.prefix = f"gannet:{namespace}:features:" if namespace else "gannet:features:"
        self._client: Any = None

    def describe(self) -> str:
        return self.url

    def _redis(self) -> Any:
        if self._client is None:
            try:
                import redis
            except ImportError as exc:
                raise Unavailable("features_online_url names Redis but the redis package "
                                  "is not installed",
                                  "pip install 'gannet-mlops[features]'") from exc
            self._client = redis.Redis.from_url(self.url, socket_timeout=5,
                                                socket_connect_timeout=2)
        return self._client

    def _call(self, what: str, fn: Any) -> Any:
        import redis

        try:
            return fn()
        except redis.RedisError as exc:
            raise Unavailable(f"the online store {self.url} cannot be reached ({what}): {exc}",
                              "start Redis, or check features_online_url") from exc

    def write(self, view: str, keys: Sequence[str], times: Sequence[int],
              payloads: Sequence[bytes]) -> None:
        client = self._redis()
        script = client.register_script(_NEWER_WINS)
        prefix = f"{self.prefix}{view}:"
        for start in range(0, len(keys), _BATCH):
            end = start + _BATCH
            args: list[Any] = []
            for t, p in zip(times[start:end], payloads[start:end], strict=True):
                args += [t, p]
            self._call("write", lambda s=start, e=end, a=args: script(
                keys=[prefix + k for k in keys[s:e]], args=a))

    def read(self, view: str, keys: Sequence[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        client = self._redis()
        unique = list(dict.fromkeys(keys))
        prefix = f"{self.prefix}{view}:"
        values = self._call("read", lambda: client.mget([prefix + k for k in unique]))
        return {k: v for k, v in zip(unique, values, strict=True) if v is not None}

    def clear(self) -> None:
        """Remove every feature value of this namespace."""
        client = self._redis()
        keys = list(self._call("scan", lambda: list(client.scan_iter(f"{self.prefix}*", 1000))))
        for start in range(0, len(keys), _BATCH):
            self._call("delete", lambda s=start: client.delete(*keys[s:s + _BATCH]))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
