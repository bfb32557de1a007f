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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from gannet.models.package import INPUT_EXAMPLE, LoadedModel
from gannet.registry.service import RegistryService
from gannet.registry.types import parse_ref
from gannet.serving.batching import BatchObserver, MicroBatcher
from gannet.serving.codecs import Codec, Payload, codec_for
from gannet.serving.protocol import datatype_of
from gannet.serving.router import Router
from gannet.serving.types import DeploymentState, Route

__all__ = ["ModelHost", "Prediction", "RoutingTable", "Served", "single_model_state"]

logger = logging.getLogger("gannet.serving")

StateSource = Callable[[], DeploymentState]
PREDICT, PROBA = "predict", "predict_proba"


def single_model_state(ref: str) -> DeploymentState:
    """A one-route deployment state serving model reference ``ref`` (``churn@champion``)."""
    name = parse_ref(ref).name
    return DeploymentState(name=name, model=name, routes=(Route(ref, 1.0),))


@dataclass(slots=True)
class Prediction:
    """One request's outputs: ``outputs`` (an ndarray, or a dict of them) and probabilities."""

    outputs: Any
    probabilities: Any = None


@dataclass(eq=False)
class Served:
    """A loaded, warmed-up model version with its codec and batcher."""

    model: str
    version: int
    loaded: LoadedModel
    codec: Codec
    batcher: MicroBatcher
    outputs: list[dict[str, Any]]  # V2 metadata of the outputs, learnt from the warm-up
    inflight: int = 0

    @property
    def label(self) -> str:
        return str(self.version)

    @property
    def has_proba(self) -> bool:
        return self.loaded.has_predict_proba

    def metadata(self, versions: Sequence[int]) -> dict[str, Any]:
        meta = self.loaded.meta
        return {
            "name": self.model,
            "versions": [str(v) for v in versions],
            "platform": f"{meta.flavor}_{meta.serialization or 'native'}",
            "inputs": self.codec.metadata_inputs(),
            "outputs": self.outputs,
        }


@dataclass(frozen=True)
class Plan:
    """What to serve, with every reference resolved to a version."""

    state: DeploymentState
    routes: tuple[tuple[str, str, int, float], ...]  # (ref, model, version, weight)
    shadows: tuple[tuple[str, str, int], ...]  # (ref, model, version)

    @property
    def key(self) -> tuple:
        s = self.state
        return (s.name, s.model, s.sticky_key, self.routes, self.shadows)

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
        aliases = {}
        for ref, _, version, *_ in (*plan.routes, *plan.shadows):
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
    ) -> None:
        self.registry = registry
        self.source = source
        self.poll_interval = poll_interval
        self.batch_max_rows = batch_max_rows
        self.batch_max_wait = batch_max_wait
        self.executor = executor or ThreadPoolExecutor(4, thread_name_prefix="gannet-predict")
        self.observe_batch = observe_batch
        self.retry_interval = retry_interval
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

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Load what is to be served now, then keep watching in the background.

        The server starts taking requests after this returns, so a worker never accepts a
        request before its models are warm. If the first load fails, start returns anyway:
        the server answers 503 (readiness says why) and the watcher keeps trying.
        """
        await self.refresh()
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready:
            if time.monotonic() > deadline:
                raise TimeoutError(f"models not loaded after {timeout:.0f} s: {self.error}")
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
        return Plan(state, routes, shadows)

    def _resolve(self, ref: str) -> tuple[str, int]:
        version = self.registry.resolve(ref)
        return version.name, version.version

    async def _apply(self, plan: Plan) -> None:
        current = self.table.served if self.table is not None else {}
        fresh: dict[tuple[str, int], Served] = {}
        for key in sorted(plan.needed() - current.keys()):
            fresh[key] = await asyncio.to_thread(self._load, *key)
        served = {key: current.get(key) or fresh[key] for key in plan.needed()}
        table = RoutingTable.build(plan, served)
        self.table = table  # the switch: one assignment, seen whole by every later request
        self.switches += 1
        logger.info("serving %s: %s", plan.state.name, ", ".join(
            f"{m}/{v} ({w:g})" for _, m, v, w in plan.routes))
        for key in current.keys() - served.keys():
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

    def _load(self, model: str, version: int) -> Served:
        """Load (verified), wrap and warm up one version - in a worker thread."""
        loaded = self.registry.load(f"{model}/{version}")
        codec = codec_for(loaded.meta.signature)
        run = batch_runner(loaded, codec)
        example = self._example(model, version, codec)
        outcome = run([example], loaded.has_predict_proba)[0]
        if isinstance(outcome, BaseException):
            raise RuntimeError(f"{model}/{version} failed its warm-up predict: "
                               f"{type(outcome).__name__}: {outcome}") from outcome
        observe = self.observe_batch(model, version) if self.observe_batch else None
        batcher = MicroBatcher(run, executor=self.executor, max_rows=self.batch_max_rows,
                               max_wait=self.batch_max_wait, observe=observe)
        return Served(model, version, loaded, codec, batcher, _outputs_metadata(outcome))

    def _example(self, model: str, version: int, codec: Codec) -> Payload:
        folder = self.registry.local_path(self.registry.get_model_version(model, version))
        path = folder / INPUT_EXAMPLE
        if path.is_file():
            return codec.from_predict(orjson.loads(path.read_bytes()))
        return codec.example()


def batch_runner(loaded: LoadedModel, codec: Codec) -> Callable[[Sequence[Payload], bool], list]:
    """The batch function for ``loaded``: merge, ONE predict (and predict_proba), split.

    When a batch fails, each request is retried alone, so one bad request fails only itself.
    """

    def run(payloads: Sequence[Payload], proba: bool) -> list:
        rows = [p.rows for p in payloads]
        try:
            data = codec.merge(payloads)
            outputs = _as_array(loaded.predict(data))
            probabilities = None
            if proba and loaded.has_predict_proba:
                probabilities = _as_array(loaded.predict_proba(data))
            _check_rows(outputs, probabilities, sum(rows))
        except Exception as exc:
            if len(payloads) == 1:
                return [exc]
            return [run([p], proba)[0] for p in payloads]
        if len(payloads) == 1:
            return [Prediction(outputs, probabilities)]
        results, start = [], 0
        for n in rows:
            stop = start + n
            results.append(Prediction(
                _rows(outputs, start, stop),
                None if probabilities is None else probabilities[start:stop]))
            start = stop
        return results

    return run


def _as_array(values: Any) -> Any:
    if isinstance(values, dict):
        return {str(k): _as_array(v) for k, v in values.items()}
    if isinstance(values, np.ndarray):
        return values
    to_numpy = getattr(values, "to_numpy", None)
    return to_numpy() if to_numpy is not None else np.asarray(values)


def _rows(values: Any, start: int, stop: int) -> Any:
    if isinstance(values, dict):
        return {k: v[start:stop] for k, v in values.items()}
    return values[start:stop]


def _check_rows(outputs: Any, probabilities: Any, rows: int) -> None:
    arrays = list(outputs.values()) if isinstance(outputs, dict) else [outputs]
    if probabilities is not None:
        arrays.append(probabilities)
    for array in arrays:
        if array.ndim == 0 or len(array) != rows:
            raise RuntimeError(f"the model returned {array.shape} for {rows} input rows")


def _outputs_metadata(example: Prediction) -> list[dict[str, Any]]:
    outputs = example.outputs
    named = outputs.items() if isinstance(outputs, dict) else [(PREDICT, outputs)]
    found = [{"name": n, "datatype": datatype_of(a.dtype), "shape": [-1, *a.shape[1:]]}
             for n, a in named]
    if example.probabilities is not None:
        p = example.probabilities
        found.append({"name": PROBA, "datatype": datatype_of(p.dtype),
                      "shape": [-1, *p.shape[1:]]})
    return found
