"""The inference server's Prometheus metrics (prometheus-client text at ``GET /metrics``).

- ``gannet_requests_total{route, model, version, code}`` and
  ``gannet_request_errors_total{...}`` (4xx and 5xx only): prediction requests only
  (``/predict``, ``/invocations``, V2 ``.../infer``);
- ``gannet_request_latency_seconds{route, model, version}`` (histogram): the same;
- ``gannet_other_requests_total{route, code}``: every other request (health probes,
  metadata, scrapes, docs, feedback), so that probes and scrapes never count as traffic;
- ``gannet_batch_rows{model, version}``: rows per predict call - the micro-batch size;
- ``gannet_batch_queue_wait_seconds{model, version}``: from a request's arrival at the
  batcher to the start of its batch;
- ``gannet_requests_in_flight``; ``gannet_shadow_requests_total{model, version, outcome}``;
- ``gannet_inference_log_dropped_total``: predictions the inference log dropped;
- ``gannet_feature_lookup_failures_total{outcome}``: rows of a deployment with features
  whose online-store lookup failed, by how they were answered (``unavailable``: 503;
  ``defaults``); ``gannet_feature_staleness_seconds{view}``: the age of the newest value
  materialized into the online store, per feature view the deployment uses;
- prometheus-client's standard ``process_*`` (CPU, memory, file descriptors, start time)
  and ``python_*`` (``python_info``, garbage collections) collectors.

Each app has a registry of its own. With several workers (``gannet serve --workers N``)
the workers share prometheus-client's multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``,
set by the server's supervisor), and a scrape of any worker answers the sum of all of them.
prometheus-client has no multiprocess form of ``process_*``: there, ``ServerProcesses``
reads each process of the server (the supervisor and its workers, listed by the
supervisor in ``PIDS_FILE``) from ``/proc`` at the scrape and answers the server's total
(CPU seconds, memory and open files summed; the start time is the earliest), so a scrape
tells the same whichever worker answers it. ``python_*`` are the answering worker's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.serving.server.served import Served

__all__ = ["PIDS_FILE", "ServerMetrics", "ServerProcesses", "publish_pids"]

PIDS_FILE = "gannet-pids"  # in the shared metrics folder: the server's process ids

_LATENCY = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_ROWS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
_WAIT = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class ServerMetrics:
    """The server's Prometheus metrics, on a registry of its own (one per app)."""

    def __init__(self, log: Any = None) -> None:
        from prometheus_client import (
            GC_COLLECTOR,
            PLATFORM_COLLECTOR,
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            ProcessCollector,
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
        self.other = Counter("gannet_other_requests", "Requests that are not predictions "
                             "(health, metadata, metrics, docs, feedback), by status code",
                             ["route", "code"], registry=registry)
        self.feature_failures = Counter(
            "gannet_feature_lookup_failures", "Rows whose online-store lookup failed, by how "
            "they were answered (unavailable: 503; defaults)", ["outcome"], registry=registry)
        self.refused = 0  # predictions the log raised on (counted with its own drops)
        self._log = log
        self._staleness: FeatureStaleness | None = None
        registry.register(_LogDropped(self))
        ProcessCollector(registry=registry)
        registry.register(PLATFORM_COLLECTOR)  # (these two read this process: one each,
        registry.register(GC_COLLECTOR)  # shared by every registry)
        self._children: dict[tuple, tuple] = {}
        self._shared: Any = None  # the registry a scrape reads with several workers

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

    def other_done(self, route: str, code: int) -> None:
        self.other.labels(route, str(code)).inc()

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

    def feature_failure(self, outcome: str, rows: int) -> None:
        self.feature_failures.labels(outcome).inc(rows)

    def watch_features(self, views: Callable[[], Iterable[str]],
                       staleness: Callable[[], Mapping[str, float | None]]) -> None:
        """Answer ``gannet_feature_staleness_seconds`` for ``views()`` from ``staleness()``."""
        self._staleness = FeatureStaleness(views, staleness)
        self.registry.register(self._staleness)

    def log_dropped(self) -> None:
        self.refused += 1

    def dropped(self) -> float:
        return float(getattr(self._log, "dropped", 0) or 0) + self.refused

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not shared:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        if self._shared is None:
            from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR
            from prometheus_client.multiprocess import MultiProcessCollector

            self._shared = every_worker = CollectorRegistry()
            MultiProcessCollector(every_worker, path=shared)
            every_worker.register(_LogDropped(self))  # this worker's log: not shared
            if self._staleness is not None:
                every_worker.register(self._staleness)
            every_worker.register(ServerProcesses(shared))
            every_worker.register(PLATFORM_COLLECTOR)
            every_worker.register(GC_COLLECTOR)
        return generate_latest(self._shared), CONTENT_TYPE_LATEST


def use_shared_metrics(folder: str) -> None:
    """Make this (worker) process count into ``folder``, shared with its siblings.

    prometheus-client picks its value class when it is imported; a worker forked after
    that import is switched over here, before it creates any metric.
    """
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    from prometheus_client import values

    values.ValueClass = values.get_value_class()


def publish_pids(folder: str, pids: list[int]) -> None:
    """Write the server's process ids for ``ServerProcesses`` (atomically: a scrape reads
    the old list or the new one)."""
    path = os.path.join(folder, PIDS_FILE)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="ascii") as out:
        out.write("\n".join(map(str, pids)))
    os.replace(temporary, path)


class ServerProcesses:
    """``process_*`` of the whole server: each process listed in ``folder``'s
    ``PIDS_FILE``, read from ``/proc``, summed (the start time: the earliest). Without the
    list, or where there is no ``/proc``, this process's own."""

    EARLIEST = "process_start_time_seconds"
    ONE = "process_max_fds"  # a limit, the same in every process: not summed

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, PIDS_FILE)

    def _pids(self) -> list[str]:
        try:
            with open(self.path, encoding="ascii") as listed:
                return listed.read().split() or ["self"]
        except OSError:
            return ["self"]

    def collect(self) -> Any:
        from prometheus_client import ProcessCollector

        totals: dict[str, Any] = {}
        for pid in self._pids():
            collector = ProcessCollector(pid=partial(str, pid), registry=None)
            for family in collector.collect():
                value = family.samples[0].value
                found = totals.get(family.name)
                if found is None:
                    totals[family.name] = family
                    continue
                sample = found.samples[0]
                if family.name == self.EARLIEST:
                    value = min(value, sample.value)
                elif family.name == self.ONE:
                    value = sample.value
                else:
                    value += sample.value
                found.samples[0] = sample._replace(value=value)
        yield from totals.values()


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


class FeatureStaleness:
    """``gannet_feature_staleness_seconds{view}``: seconds since the newest value loaded into
    the online store, per feature view served (asked at most every ``every`` seconds: the
    answer comes from the metadata store)."""

    def __init__(self, views: Callable[[], Iterable[str]],
                 staleness: Callable[[], Mapping[str, float | None]], every: float = 5.0) -> None:
        self.views = views
        self.staleness = staleness
        self.every = every
        self._known: tuple[float, Mapping[str, float | None]] | None = None

    def _ages(self) -> Mapping[str, float | None]:
        now = time.monotonic()
        if self._known is None or now - self._known[0] >= self.every:
            try:
                self._known = (now, self.staleness())
            except Exception:  # the metadata store is away: the last answer, or none
                return self._known[1] if self._known is not None else {}
        return self._known[1]

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("gannet_feature_staleness_seconds",
                                   "Age of the newest value in the online store, per feature "
                                   "view served", labels=["view"])
        views = list(self.views())
        ages = self._ages() if views else {}
        for view in views:
            age = ages.get(view)
            if age is not None:
                family.add_metric([view], age)
        yield family
