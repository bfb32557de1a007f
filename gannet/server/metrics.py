"""The control plane's Prometheus metrics, at ``GET /metrics``.

- ``gannet_server_requests_total{method, route, code}``: every request, by route template
  (``/api/v1/runs/{run_id}``), so a scrape never grows a series per run id;
- ``gannet_server_request_latency_seconds{method, route}`` (histogram);
- prometheus-client's ``process_*`` and ``python_*`` collectors;
- the monitors' latest outputs (``gannet_monitor_*``, see gannet.monitoring.prometheus).

With several workers they share prometheus-client's multiprocess directory (set by the
supervisor, as for ``gannet serve``) and any worker's scrape answers the sum.
"""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["ServerMetrics"]

_LATENCY = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ServerMetrics:
    def __init__(self, extra: list[Any] | None = None) -> None:
        """``extra``: collectors exported beside the request metrics (the monitors')."""
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.extra = list(extra or [])
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        own = None if self.multiprocess else self.registry
        self.requests = Counter("gannet_server_requests_total", "Requests answered",
                                ["method", "route", "code"], registry=own)
        self.latency = Histogram("gannet_server_request_latency_seconds",
                                 "Seconds from a request's arrival to its answer",
                                 ["method", "route"], buckets=_LATENCY, registry=own)
        if not self.multiprocess:
            from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR, *self.extra):
                self.registry.register(collector)

    def wrap(self, app: Any) -> Any:
        """``app`` counting its requests by route template."""

        async def measured(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            code = 500

            async def seen(message: dict) -> None:
                nonlocal code
                if message["type"] == "http.response.start":
                    code = message["status"]
                await send(message)

            try:
                await app(scope, receive, seen)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                counted, timed = self._series(scope.get("method", ""), template, code)
                counted.inc()
                timed.observe(time.perf_counter() - started)

        return measured

    def _series(self, method: str, template: str, code: int) -> tuple[Any, Any]:
        """The request's counter and histogram, kept per label set: ``labels()`` checks
        and locks on every call, which costs more than the count itself on a hot path."""
        key = (method, template, code)
        found = self._children.get(key)
        if found is None:
            found = (self.requests.labels(method, template, str(code)),
                     self.latency.labels(method, template))
            if len(self._children) < 10_000:  # templates are few; a bound all the same
                self._children[key] = found
        return found

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.multiprocess:
            from prometheus_client import CollectorRegistry, multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            for collector in self.extra:
                registry.register(collector)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
