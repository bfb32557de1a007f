"""The inference server's Prometheus metrics (prometheus-client text at ``GET /metrics``).

- ``gannet_requests_total{route, model, version, code}`` and
  ``gannet_request_errors_total{...}`` (4xx and 5xx only);
- ``gannet_request_latency_seconds{route, model, version}`` (histogram);
- ``gannet_batch_rows{model, version}``: rows per predict call - the micro-batch size;
- ``gannet_batch_queue_wait_seconds{model, version}``: from a request's arrival at the
  batcher to the start of its batch;
- ``gannet_requests_in_flight``; ``gannet_shadow_requests_total{model, version, outcome}``;
- ``gannet_inference_log_dropped_total``: predictions the inference log dropped.

Each app has a registry of its own. With several workers (``gannet serve --workers N``)
the workers share prometheus-client's multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``,
set by the server's supervisor), and a scrape of any worker answers the sum of all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.serving.server.served import Served

__all__ = ["ServerMetrics"]

_LATENCY = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_ROWS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
_WAIT = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class ServerMetrics:
    """The server's Prometheus metrics, on a registry of its own (one per app)."""

    def __init__(self, log: Any = None) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()  # no ``*_created`` series: half the text, nothing lost
        self.registry = registry = CollectorRegistry()
        by_route = ["route", "model", "version"]
        self.requests = Counter("gannet_requests", "Requests answered, by status code",
                                [*by_route, "code"], registry=registry)
        self.errors = Counter("gannet_request_errors", "Requests answered with a 4xx or 5xx",
                              [*by_route, "code"], registry=registry)
        self.latency = Histogram("gannet_request_latency_seconds", "Time to answer a request",
                                 by_route, buckets=_LATENCY, registry=registry)
        self.batch_rows = Histogram("gannet_batch_rows", "Rows per predict call (batch size)",
                                    ["model", "version"], buckets=_ROWS, registry=registry)
        self.queue_wait = Histogram("gannet_batch_queue_wait_seconds",
                                    "Time a request waited for its batch to start",
                                    ["model", "version"], buckets=_WAIT, registry=registry)
        self.inflight = Gauge("gannet_requests_in_flight", "Requests being answered",
                              registry=registry, multiprocess_mode="livesum")
        self.shadows = Counter("gannet_shadow_requests", "Shadow copies, by outcome",
                               ["model", "version", "outcome"], registry=registry)
        self.refused = 0  # predictions the log raised on (counted with its own drops)
        self._log = log
        registry.register(_LogDropped(self))
        self._children: dict[tuple, tuple] = {}

    def done(self, route: str, model: str, version: str, code: int, seconds: float) -> None:
        key = (route, model, version, code)
        children = self._children.get(key)
        if children is None:
            errors = self.errors.labels(route, model, version, str(code)) if code >= 400 \
                else None
            children = (self.requests.labels(route, model, version, str(code)),
                        self.latency.labels(route, model, version), errors)
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if children[2] is not None:
            children[2].inc()

    def batch_observer(self, model: str, version: int) -> Callable[[int, Any], None]:
        rows = self.batch_rows.labels(model, str(version))
        wait = self.queue_wait.labels(model, str(version))

        def observe(count: int, waits: Any) -> None:
            rows.observe(count)
            for seconds in waits:
                wait.observe(seconds)

        return observe

    def shadow_done(self, served: Served, outcome: str) -> None:
        self.shadows.labels(served.model, served.label, outcome).inc()

    def shadow_dropped(self) -> None:
        self.shadows.labels("", "", "dropped").inc()

    def log_dropped(self) -> None:
        self.refused += 1

    def dropped(self) -> float:
        return float(getattr(self._log, "dropped", 0) or 0) + self.refused

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not shared:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client.multiprocess import MultiProcessCollector

        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=shared)
        every_worker.register(_LogDropped(self))  # this worker's log: not shared
        return generate_latest(every_worker), CONTENT_TYPE_LATEST


def use_shared_metrics(folder: str) -> None:
    """Make this (worker) process count into ``folder``, shared with its siblings.

    prometheus-client picks its value class when it is imported; a worker forked after
    that import is switched over here, before it creates any metric.
    """
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    from prometheus_client import values

    values.ValueClass = values.get_value_class()


class _LogDropped:
    """``gannet_inference_log_dropped_total``: predictions the log dropped (its own count
    plus the ones the server could not hand over)."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily

        family = CounterMetricFamily("gannet_inference_log_dropped",
                                     "Predictions the inference log dropped (queue full, "
                                     "closed, or refused)")
        family.add_metric([], self.metrics.dropped())
        yield family
