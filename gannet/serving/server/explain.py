"""``POST /explain`` and ``POST /v2/models/{name}[/versions/{v}]/explain``: per-feature
contributions (SHAP values) for the rows sent.

Bounded, and never on the predict path:

- at most ``max_rows`` rows per request: more is 413 before any work;
- the explanation runs in the explain pool (its own threads, not the predict batcher's
  and not the event loop), at most ``workers`` at a time; a request that is not answered
  within ``timeout_s`` (waiting included) is 503, and a sampled explainer stops between
  rows once its budget is spent;
- an explainer is made once per version, on its first explain request (a tree model's
  needs nothing; others use the background sample stored by ``gannet models explain``).

The body is any ``/predict`` body (records, columns, CSV...) or, on the V2 route, V2
``inputs`` tensors. A model SHAP cannot explain is 501, naming the offline fallback.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from gannet.core.errors import InvalidInput, RequestTooLarge, Unavailable
from gannet.models.signature import as_table
from gannet.serving.server.bodies import read_prediction_body
from gannet.serving.server.codecs import Codec, Payload
from gannet.serving.server.host import ModelHost
from gannet.serving.server.protocol import v2_inputs
from gannet.serving.server.request import Call
from gannet.serving.server.router import sticky_value
from gannet.serving.server.served import Served

__all__ = ["DEFAULT_EXPLAIN_ROWS", "DEFAULT_EXPLAIN_TIMEOUT", "ExplainEndpoints"]

DEFAULT_EXPLAIN_ROWS = 100
DEFAULT_EXPLAIN_TIMEOUT = 5.0
JSON = b"application/json"
Background = Callable[[str, int], Any]  # (model, version) -> DataFrame | None


class ExplainEndpoints:
    def __init__(self, host: ModelHost, max_body_bytes: int, *,
                 max_rows: int = DEFAULT_EXPLAIN_ROWS,
                 timeout_s: float = DEFAULT_EXPLAIN_TIMEOUT, workers: int = 2,
                 background: Background | None = None) -> None:
        self.host = host
        self.max_body_bytes = max_body_bytes
        self.max_rows = max_rows
        self.timeout_s = timeout_s
        self.background = background or _stored_background(host)
        self._pool: ThreadPoolExecutor | None = None
        self._workers = workers
        self._explainers: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()

    async def explain(self, call: Call) -> tuple[int, bytes, bytes]:
        """``/explain``: the version the router picks for this caller (as ``/predict``)."""
        body = await read_prediction_body(call, self.max_body_bytes, _from_predict)
        table = self.host.serving_table()
        served = table.router.choose(sticky_value(table.state.sticky_key, call.headers,
                                                  body.doc))
        return await self._answer(call, served, body.decode)

    async def explain_named(self, call: Call, name: str, version: str | None
                            ) -> tuple[int, bytes, bytes]:
        body = await read_prediction_body(call, self.max_body_bytes, _from_any)
        served = self.host.serving_table().get(name, version)
        return await self._answer(call, served, body.decode)

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def _answer(self, call: Call, served: Served, decode: Callable[[Codec], Payload]
                      ) -> tuple[int, bytes, bytes]:
        call.model, call.version = served.model, served.label
        try:
            payload = decode(served.codec)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"cannot read the input: {type(exc).__name__}: {exc}") from exc
        if payload.rows > self.max_rows:
            raise RequestTooLarge(
                f"explain takes at most {self.max_rows} rows per request; this one has "
                f"{payload.rows}",
                "send fewer rows per request (the serving_explain_max_rows setting)")
        started = time.perf_counter()
        future = self._executor().submit(self._explain, served, payload, started)
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except TimeoutError as exc:
            raise Unavailable(
                f"explaining {payload.rows} row(s) of {served.model}/{served.version} took "
                f"longer than {self.timeout_s:g} s",
                "send fewer rows, retry later, or raise serving_explain_timeout") from exc
        result.update(model=served.model, version=served.label, request_id=call.request_id)
        return 200, orjson.dumps(result), JSON

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers,
                                                thread_name_prefix="gannet-explain")
            return self._pool

    def _explain(self, served: Served, payload: Payload, started: float) -> dict[str, Any]:
        """In the explain pool: the version's explainer (made once), then the rows."""
        from gannet.models.explainers import feature_frame

        explainer = self._explainer(served)
        loaded = served.loaded
        data = served.codec.merge([payload])
        signature = loaded.meta.signature
        frame = feature_frame(loaded, signature.check_input(data) if signature else
                              as_table(data))
        left = self.timeout_s - (time.perf_counter() - started)
        if left <= 0:
            raise TimeoutError("the time budget was spent before the explanation started")
        try:
            found = explainer.explain(frame, budget_s=left)
        except TimeoutError as exc:
            raise Unavailable(f"the explanation ran out of its {self.timeout_s:g} s: {exc}",
                              "send fewer rows or raise serving_explain_timeout") from exc
        return {"method": found.method, "output": found.output,
                "base_value": found.base_value, "base_values": found.base_values.tolist(),
                "features": found.features, "contributions": found.rows()}

    def _explainer(self, served: Served) -> Any:
        from gannet.models.explainers import local_explainer

        key = (served.model, served.version)
        with self._lock:
            made = self._explainers.get(key)
        if made is None:
            background = self.background(served.model, served.version)
            made = local_explainer(served.loaded, background)
            with self._lock:
                self._explainers[key] = made
        return made


def _stored_background(host: ModelHost) -> Background:
    """The background sample ``gannet models explain`` stored with a version, read from the
    registry once per version (in the explain pool, never on the event loop)."""
    def read(model: str, version: int) -> Any:
        from gannet.registry.responsible import ResponsibleAIService

        registry = host.registry
        return ResponsibleAIService(registry, registry.settings).explanation_background(
            model, version)

    return read


def _from_predict(doc: Any) -> Callable[[Codec], Payload]:
    return lambda codec: codec.from_predict(doc)


def _from_any(doc: Any) -> Callable[[Codec], Payload]:
    """A V2 inference body (``inputs``: tensors with name/datatype) or a ``/predict`` one."""
    inputs = doc.get("inputs") if isinstance(doc, dict) else None
    if isinstance(inputs, list) and inputs and all(
            isinstance(i, dict) and "datatype" in i for i in inputs):
        tensors = v2_inputs(doc)
        return lambda codec: codec.from_v2(tensors)
    return _from_predict(doc)
