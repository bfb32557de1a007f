"""The model host: which model versions are loaded, and the routing table over them.

A ``ModelHost`` is given a way to learn what to serve (a deployment's current state, or a
single model reference made into a one-route state) and keeps that true:

- Each model version it needs is loaded through ``RegistryService.load`` (so its package
  signature and files are verified), keyed by ``(model, version)``, and warmed up - one
  batch through the very path requests take, on the package's input example or a synthetic
  row made from the signature - before any request can reach it.
- ``start`` loads what is to be served before the server takes requests; a background
  task then asks again every ``poll_interval`` seconds (aliases are resolved each
  time, so moving ``churn@champion`` reaches a running server). On a change it loads the new
  versions FIRST, then swaps the routing table in one assignment (requests read the table
  once, so each sees the old or the new one, never a mix), then unloads the versions no
  longer used once their in-flight requests are answered. A version that fails to load
  leaves the old table serving; it is retried at most every ``retry_interval`` seconds.
- A deployment that names features is served through ``enriched.FeatureCodec``, its lookup
  made from ``features`` (the feature store); a change of its features, or a new version
  of a feature view they come from, reloads every version with a new lookup, switched the
  same way.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gannet.core.errors import ModelFailed, NotFound, NotReady
from gannet.models.manifest import INPUT_EXAMPLE
from gannet.models.reference import parse_ref
from gannet.registry.service import RegistryService
from gannet.serving.deployments.types import DeploymentState, Route
from gannet.serving.server.batching import BatchObserver, MicroBatcher
from gannet.serving.server.codecs import Codec, Payload, codec_for
from gannet.serving.server.router import Router
from gannet.serving.server.served import Served, batch_runner, outputs_metadata

__all__ = ["ModelHost", "Plan", "RoutingTable", "StateSource", "single_model_state"]

logger = logging.getLogger("gannet.serving")

StateSource = Callable[[], DeploymentState]


class FeatureSource(Protocol):
    """What the host makes a deployment's feature lookup with (``FeatureStore``)."""

    def lookup(self, features: Sequence[str], *, on_unavailable: str = "error",
               defaults: Mapping[str, Any] | None = None,
               on_defaults: Callable[[int], None] | None = None) -> Any: ...

    def staleness(self) -> dict[str, float | None]: ...

    def definitions_digest(self, features: Sequence[str]) -> str: ...


def single_model_state(ref: str) -> DeploymentState:
    """A one-route deployment state serving model reference ``ref`` (``churn@champion``)."""
    name = parse_ref(ref).name
    return DeploymentState(name=name, model=name, routes=(Route(ref, 1.0),))


@dataclass(frozen=True)
class Plan:
    """What to serve, with every reference resolved to a version."""

    state: DeploymentState
    routes: tuple[tuple[str, str, int, float], ...]  # (ref, model, version, weight)
    shadows: tuple[tuple[str, str, int], ...]  # (ref, model, version)
    definitions: str = ""  # digest of the feature definitions the features are read with

    @property
    def key(self) -> tuple:
        s = self.state
        return (s.name, s.model, s.sticky_key, self.routes, self.shadows, self.features)

    @property
    def features(self) -> tuple:
        s = self.state
        return (s.features, s.features_on_unavailable, s.feature_defaults, self.definitions)

    def needed(self) -> set[tuple[str, int]]:
        return {(m, v) for _, m, v, _ in self.routes} | {(m, v) for _, m, v in self.shadows}


@dataclass(frozen=True)
class RoutingTable:
    plan: Plan
    router: Router[Served]
    served: dict[tuple[str, int], Served]
    aliases: dict[str, int] = field(default_factory=dict)

    @property
    def state(self) -> DeploymentState:
        return self.plan.state

    @classmethod
    def build(cls, plan: Plan, served: dict[tuple[str, int], Served]) -> RoutingTable:
        routes = [(served[(m, v)], w) for _, m, v, w in plan.routes]
        shadows = [served[(m, v)] for _, m, v in plan.shadows]
        aliases: dict[str, int] = {}
        refs = [(r[0], r[2]) for r in plan.routes] + [(s[0], s[2]) for s in plan.shadows]
        for ref, version in refs:
            if "@" in ref:
                aliases[ref.partition("@")[2]] = version
        router = Router(routes, shadows, plan.state.sticky_key)
        return cls(plan, router, served, aliases)

    def knows(self, name: str) -> bool:
        return name in (self.state.name, self.state.model)

    def versions(self) -> list[int]:
        return sorted(v for _, v in self.served)

    def find(self, name: str, version: str | None) -> Served | None:
        """The version a path names (a number or an alias), or the first route's."""
        if not self.knows(name):
            return None
        if version is None:
            return self.router.targets[0]
        number = self.aliases.get(version) if not version.isdigit() else int(version)
        return self.served.get((self.state.model, number)) if number is not None else None

    def get(self, name: str, version: str | None) -> Served:
        """``find``, or NotFound saying what is served here."""
        served = self.find(name, version)
        if served is not None:
            return served
        if not self.knows(name):
            raise NotFound(f"no model {name!r} here; this server serves {self.state.model!r}")
        loaded = ", ".join(str(v) for v in self.versions())
        raise NotFound(f"model {name!r} has no version {version!r} loaded here "
                       f"(loaded: {loaded})")


class ModelHost:
    def __init__(
        self,
        registry: RegistryService,
        source: StateSource,
        *,
        poll_interval: float = 1.0,
        batch_max_rows: int = 256,
        batch_max_wait: float = 0.002,
        executor: Executor | None = None,
        observe_batch: Callable[[str, int], BatchObserver] | None = None,
        retry_interval: float = 30.0,
        features: FeatureSource | None = None,
    ) -> None:
        self.registry = registry
        self.source = source
        self.poll_interval = poll_interval
        self.batch_max_rows = batch_max_rows
        self.batch_max_wait = batch_max_wait
        self.executor = executor or ThreadPoolExecutor(4, thread_name_prefix="gannet-predict")
        self.observe_batch = observe_batch
        self.retry_interval = retry_interval
        self.features = features
        # told (outcome, rows) when the online store fails a batch: the metrics count it
        self.on_feature_failure: Callable[[str, int], None] | None = None
        self.table: RoutingTable | None = None
        self.error: str | None = None
        self._failed: tuple[tuple, float] | None = None
        self._watcher: asyncio.Task | None = None
        self._stop = asyncio.Event()
        self._retiring: set[asyncio.Task] = set()
        self.switches = 0

    @property
    def ready(self) -> bool:
        return self.table is not None

    def serving_table(self) -> RoutingTable:
        """The routing table requests use now, or NotReady while nothing is loaded."""
        table = self.table
        if table is None:
            why = f" ({self.error})" if self.error else ""
            raise NotReady(f"the models are not loaded yet{why}",
                           "wait for GET /v2/health/ready to answer 200")
        return table

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Load what is to be served now, then keep watching in the background.

        The server starts taking requests after this returns, so a worker never accepts a
        request before its models are warm. If the first load fails, start returns anyway:
        the server answers 503 (readiness says why) and the watcher keeps trying.
        """
        await self.refresh()
        _freeze_heap()
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready:
            if time.monotonic() > deadline:
                raise NotReady(f"models not loaded after {timeout:.0f} s: {self.error}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop watching, answer what is queued, unload everything."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        if self.table is not None:
            for served in self.table.served.values():
                await served.batcher.close()
        self.executor.shutdown(wait=False)

    async def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.poll_interval)
            except TimeoutError:
                await self.refresh()

    async def refresh(self) -> bool:
        """Ask the source once; apply a change. True when the table was swapped."""
        plan: Plan | None = None
        try:
            plan = await asyncio.to_thread(self._plan)
            if self.table is not None and plan.key == self.table.plan.key:
                self.error = None
                return False
            if self._failed and self._failed[0] == plan.key and \
                    time.monotonic() - self._failed[1] < self.retry_interval:
                return False
            await self._apply(plan)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            if message != self.error:
                logger.error("cannot update what is served: %s", message)
            self.error = message
            if plan is not None:  # it loads badly: not again before retry_interval
                self._failed = (plan.key, time.monotonic())
            return False
        self.error, self._failed = None, None
        return True

    # -- planning and switching ------------------------------------------------------------

    def _plan(self) -> Plan:
        state = self.source()
        routes = tuple((r.ref, *self._resolve(r.ref), float(r.weight)) for r in state.routes)
        shadows = tuple((ref, *self._resolve(ref)) for ref in state.shadows)
        definitions = ""
        if state.features and self.features is not None:  # a view applied again: reload
            definitions = self.features.definitions_digest(state.features)
        return Plan(state, routes, shadows, definitions)

    def _resolve(self, ref: str) -> tuple[str, int]:
        version = self.registry.resolve_model_version(ref)
        return version.name, version.version

    async def _apply(self, plan: Plan) -> None:
        current = self.table.served if self.table is not None else {}
        same = self.table is not None and self.table.plan.features == plan.features
        reuse = current if same else {}  # other features: every version with a new lookup
        fresh: dict[tuple[str, int], Served] = {}
        for key in sorted(plan.needed() - reuse.keys()):
            fresh[key] = await asyncio.to_thread(self._load, *key, plan.state)
        served = {key: reuse.get(key) or fresh[key] for key in plan.needed()}
        table = RoutingTable.build(plan, served)
        self.table = table  # the switch: one assignment, seen whole by every later request
        self.switches += 1
        logger.info("serving %s: %s", plan.state.name, ", ".join(
            f"{m}/{v} ({w:g})" for _, m, v, w in plan.routes))
        for key in [k for k, old in current.items() if served.get(k) is not old]:
            task = asyncio.get_running_loop().create_task(self._retire(current[key]))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def _retire(self, served: Served, timeout: float = 120.0) -> None:
        """Unload ``served`` once the requests that chose it are answered."""
        deadline = time.monotonic() + timeout
        while (served.inflight or served.batcher.pending) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await served.batcher.close()
        logger.info("unloaded %s/%s", served.model, served.version)

    # -- loading ------------------------------------------------------------------------

    def _load(self, model: str, version: int, state: DeploymentState | None = None) -> Served:
        """Load (verified), wrap and warm up one version - in a worker thread."""
        loaded = self.registry.load_model(f"{model}/{version}")
        codec = self._codec(loaded.meta.signature, state)
        run = batch_runner(loaded, codec, f"{model}/{version}")
        example = codec.example() if state is not None and state.features else \
            self._example(model, version, codec)
        outcome = run([example], loaded.has_predict_proba)[0]
        if isinstance(outcome, BaseException):
            raise ModelFailed(f"{model}/{version} failed its warm-up predict: "
                              f"{type(outcome).__name__}: {outcome}") from outcome
        observe = self.observe_batch(model, version) if self.observe_batch else None
        batcher = MicroBatcher(run, executor=self.executor, max_rows=self.batch_max_rows,
                               max_wait=self.batch_max_wait, observe=observe)
        return Served(model, version, loaded, codec, batcher, outputs_metadata(outcome))

    def _codec(self, signature: Any, state: DeploymentState | None) -> Codec:
        """The codec of ``signature``; with the deployment's features, a ``FeatureCodec``."""
        if state is None or not state.features:
            return codec_for(signature)
        from gannet.serving.server.enriched import FeatureCodec

        if self.features is None:
            raise NotReady(f"deployment {state.name!r} names features but this server has "
                           "no feature store", "serve it with `gannet serve`")
        report = self._feature_failure
        lookup = self.features.lookup(
            list(state.features), on_unavailable=state.features_on_unavailable,
            defaults=dict(state.feature_defaults), on_defaults=lambda n: report("defaults", n))
        return FeatureCodec(signature, lookup, report)

    def _feature_failure(self, outcome: str, rows: int) -> None:
        if self.on_feature_failure is not None:
            self.on_feature_failure(outcome, rows)

    def feature_views(self) -> list[str]:
        """The feature views the deployment served now uses."""
        table = self.table
        refs = table.state.features if table is not None else ()
        return list(dict.fromkeys(ref.partition(":")[0] for ref in refs))

    def _example(self, model: str, version: int, codec: Codec) -> Payload:
        folder = self.registry.local_path(self.registry.get_model_version(model, version))
        path = folder / INPUT_EXAMPLE
        if path.is_file():
            return codec.from_predict(orjson.loads(path.read_bytes()))
        return codec.example()


def _freeze_heap() -> None:
    """Move everything alive now (models, libraries) out of the garbage collector's reach.

    A server's heap is mostly its loaded models and imported libraries, which never die;
    the collector's full passes would walk all of it, stalling the event loop for tens of
    milliseconds whenever short-lived request objects push a collection that far. Freezing
    it once the models are loaded keeps those passes to what requests create."""
    gc.collect()
    gc.freeze()
