"""The inference server's ASGI app: Open Inference Protocol V2, ``/predict``, metrics.

Raw ASGI (no framework on the request path): a request costs a dict lookup to route,
one ``orjson.loads``, the codec's decode, a batched predict and one ``orjson.dumps``.

Routes: ``/v2/health/live``, ``/v2/health/ready`` (503 until the models are loaded),
``GET /v2``, ``GET /v2/models/{name}[/versions/{v}]`` (+ ``/ready``, ``POST .../infer``),
``POST /predict``, ``GET /openapi.json``, ``GET /metrics`` (Prometheus), ``POST /feedback``.

Every response carries ``x-request-id`` (the caller's, or a new one; also in the body),
``x-model-name`` and ``x-model-version``. Errors are ``{"error": "...", "request_id": ...}``:
malformed JSON 400, a body over the limit 413, an unknown model or version 404, input the
signature refuses 422 (its message names the column), a model that raises 500 (the server
keeps serving), not loaded yet 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from gannet.core.errors import GannetError, InvalidArgument, NotFound
from gannet.serving.codecs import Codec, Payload
from gannet.serving.host import PREDICT, PROBA, ModelHost, Prediction, RoutingTable, Served
from gannet.serving.metrics import ServerMetrics
from gannet.serving.protocol import (
    BadRequest,
    openapi_document,
    tensor_json,
    v2_inputs,
    wire_array,
)
from gannet.serving.router import ShadowSender, sticky_value
from gannet.serving.types import LoggedPrediction, PredictionLog

__all__ = ["DEFAULT_MAX_BODY", "InferenceApp", "create_app"]

logger = logging.getLogger("gannet.serving")

DEFAULT_MAX_BODY = 32 * 1024 * 1024
SERVER_NAME = "gannet"
_JSON = b"application/json"
_DUMP = orjson.OPT_SERIALIZE_NUMPY
Feedback = Callable[..., None]  # (deployment, request_id, label, *, row=None)


class Problem(GannetError):
    """An HTTP error answer with its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


@dataclass(slots=True)
class Call:
    """One HTTP request as the handlers see it, and what the answer names."""

    scope: dict
    receive: Callable
    headers: dict[str, str]
    rid: str | None
    model: str = ""
    version: str = ""
    route: str = "other"

    @property
    def request_id(self) -> str:
        if self.rid is None:
            self.rid = uuid.uuid4().hex
        return self.rid

    def query(self, name: str) -> str | None:
        raw = self.scope.get("query_string") or b""
        values = parse_qs(raw.decode("latin-1")).get(name) if raw else None
        return values[-1] if values else None


def _request_id(value: str | None) -> str | None:
    if value and len(value) <= 200 and value.isprintable():
        return value
    return None


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true", "yes"))


def create_app(
    host: ModelHost,
    *,
    log: PredictionLog | None = None,
    feedback: Feedback | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    metrics: ServerMetrics | None = None,
    shadow_limit: int = 256,
) -> InferenceApp:
    """The ASGI app over ``host``; ``feedback`` defaults to ``log.feedback`` when it has one."""
    return InferenceApp(host, log=log, feedback=feedback, max_body_bytes=max_body_bytes,
                        metrics=metrics, shadow_limit=shadow_limit)


class InferenceApp:
    def __init__(
        self,
        host: ModelHost,
        *,
        log: PredictionLog | None,
        feedback: Feedback | None,
        max_body_bytes: int,
        metrics: ServerMetrics | None,
        shadow_limit: int,
    ) -> None:
        self.host = host
        self.log = log
        self.feedback = feedback or getattr(log, "feedback", None)
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics or ServerMetrics(log)
        if host.observe_batch is None:
            host.observe_batch = self.metrics.batch_observer
        self.shadows = ShadowSender(shadow_limit, on_drop=self.metrics.shadow_dropped)
        self._fixed = {
            ("GET", "/v2/health/live"): ("/v2/health/live", self._live),
            ("GET", "/v2/health/ready"): ("/v2/health/ready", self._ready),
            ("GET", "/v2"): ("/v2", self._server_metadata),
            ("POST", "/predict"): ("/predict", self._predict),
            ("GET", "/openapi.json"): ("/openapi.json", self._openapi),
            ("GET", "/metrics"): ("/metrics", self._metrics),
            ("POST", "/feedback"): ("/feedback", self._feedback),
        }
        self._model_routes = {
            ("GET", ""): ("/v2/models/{name}", self._model_metadata),
            ("GET", "ready"): ("/v2/models/{name}/ready", self._model_ready),
            ("POST", "infer"): ("/v2/models/{name}/infer", self._infer),
        }

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.host.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def shutdown(self) -> None:
        """After the server stopped taking requests: shadows, batches, then the log."""
        await self.shadows.drain()
        await self.host.stop()
        if self.log is not None:
            await asyncio.to_thread(self.log.close)

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        call = Call(scope, receive, headers, _request_id(headers.get("x-request-id")))
        self.metrics.inflight.inc()
        try:
            status, body, ctype = await self._dispatch(call)
        except Exception as exc:
            status, body, ctype = self._error(call, exc)
        finally:
            self.metrics.inflight.dec()
        if not call.model and self.host.table is not None:
            first = self.host.table.router.targets[0]
            call.model, call.version = first.model, first.label
        response = [
            (b"content-type", ctype),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", call.request_id.encode("latin-1")),
            (b"x-model-name", call.model.encode("latin-1")),
            (b"x-model-version", call.version.encode("latin-1")),
        ]
        await send({"type": "http.response.start", "status": status, "headers": response})
        await send({"type": "http.response.body", "body": body})
        self.metrics.done(call.route, call.model, call.version, status,
                          time.perf_counter() - started)

    async def _dispatch(self, call: Call) -> tuple[int, bytes, bytes]:
        method, path = call.scope["method"], call.scope["path"]
        if method == "HEAD":
            method = "GET"
        found = self._fixed.get((method, path))
        if found is not None:
            call.route = found[0]
            return await found[1](call)
        if path.startswith("/v2/models/"):
            parts = path[len("/v2/models/"):].split("/")
            name, version = parts[0], None
            if len(parts) >= 3 and parts[1] == "versions":
                version, parts = parts[2], parts[2:]
            action = "/".join(parts[1:])
            route = self._model_routes.get((method, action))
            if route is not None and name:
                call.route = route[0]
                return await route[1](call, name, version)
            if any(key[1] == action for key in self._model_routes):
                raise Problem(405, f"{method} is not allowed on {path}")
        if any(key[1] == path for key in self._fixed):
            raise Problem(405, f"{method} is not allowed on {path}")
        raise Problem(404, f"no route {path}: see /openapi.json")

    def _error(self, call: Call, exc: Exception) -> tuple[int, bytes, bytes]:
        if isinstance(exc, Problem):
            status, message = exc.http_status, exc.message
        elif isinstance(exc, (InvalidArgument, BadRequest)):
            status, message = (422 if isinstance(exc, InvalidArgument) else 400), str(exc)
        elif isinstance(exc, GannetError):
            status, message = exc.http_status, str(exc)
        else:
            logger.error("request %s failed", call.request_id, exc_info=exc)
            status = 500
            message = f"{type(exc).__name__}: {exc} (request id {call.request_id})"
        body = orjson.dumps({"error": message, "request_id": call.request_id})
        return status, body, _JSON

    # -- reading requests ----------------------------------------------------------------

    async def _body(self, call: Call) -> bytes:
        limit = self.max_body_bytes
        declared = call.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Problem(413, f"the request body has {declared} bytes; the limit is {limit}")
        chunks, size = [], 0
        while True:
            message = await call.receive()
            if message["type"] == "http.disconnect":
                raise Problem(499, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Problem(413, f"the request body is over the limit of {limit} bytes")
            if not message.get("more_body", False):
                if not chunks:
                    return chunk
                chunks.append(chunk)
                return b"".join(chunks)
            chunks.append(chunk)

    async def _json(self, call: Call) -> Any:
        body = await self._body(call)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the request body is not valid JSON: {exc}") from None

    def _table(self) -> RoutingTable:
        table = self.host.table
        if table is None:
            raise Problem(503, f"the models are not loaded yet{self._why()}")
        return table

    def _why(self) -> str:
        return f" ({self.host.error})" if self.host.error else ""

    def _served(self, call: Call, name: str, version: str | None) -> tuple[RoutingTable, Served]:
        table = self._table()
        served = table.find(name, version)
        if served is None:
            if not table.knows(name):
                raise NotFound(f"no model {name!r} here; this server serves "
                               f"{table.state.model!r}")
            loaded = ", ".join(str(v) for v in table.versions())
            raise NotFound(f"model {name!r} has no version {version!r} loaded here "
                           f"(loaded: {loaded})")
        call.model, call.version = served.model, served.label
        return table, served

    # -- predicting -----------------------------------------------------------------------

    async def _run(self, served: Served, decode: Callable[[Codec], Payload],
                   proba: bool) -> tuple[Payload, Prediction]:
        served.inflight += 1
        try:
            try:
                payload = decode(served.codec)
            except (ValueError, TypeError, KeyError) as exc:
                raise InvalidArgument(f"cannot read the input: {type(exc).__name__}: "
                                      f"{exc}") from exc
            prediction = await served.batcher.submit(payload, payload.rows, proba)
        except GannetError:
            raise
        except Exception as exc:
            logger.error("%s/%s failed", served.model, served.version, exc_info=exc)
            raise Problem(500, f"model {served.model}/{served.version} failed: "
                               f"{type(exc).__name__}: {exc}") from exc
        finally:
            served.inflight -= 1
        return payload, prediction

    def _route(self, call: Call, table: RoutingTable, doc: Any) -> Served:
        served = table.router.choose(sticky_value(table.state.sticky_key, call.headers, doc))
        call.model, call.version = served.model, served.label
        return served

    async def _predict(self, call: Call) -> tuple[int, bytes, bytes]:
        doc = await self._json(call)
        table = self._table()
        served = self._route(call, table, doc)
        proba = served.has_proba and (_flag(call.query("probabilities")) or (
            isinstance(doc, dict) and _flag(doc.get("probabilities"))))
        started = time.perf_counter()
        decode = _predict_decoder(doc)
        payload, prediction = await self._run(served, decode, proba)
        self._after(call, table, served, payload, prediction, started, decode, proba)
        outputs = prediction.outputs
        answer: dict[str, Any] = {
            "predictions": {k: wire_array(v) for k, v in outputs.items()}
            if isinstance(outputs, dict) else wire_array(outputs)}
        if prediction.probabilities is not None:
            answer["probabilities"] = wire_array(prediction.probabilities)
        answer.update(model=served.model, version=served.label, request_id=call.request_id)
        return 200, orjson.dumps(answer, option=_DUMP), _JSON

    async def _infer(self, call: Call, name: str, version: str | None) -> tuple[int, bytes, bytes]:
        doc = await self._json(call)
        table, served = self._served(call, name, version)
        if isinstance(doc, dict) and call.rid is None and isinstance(doc.get("id"), str):
            call.rid = _request_id(doc["id"])
        inputs = v2_inputs(doc)
        if version is None:
            served = self._route(call, table, doc)
        wanted = _wanted_outputs(doc, served)
        proba = served.has_proba and (wanted is None or PROBA in wanted)
        started = time.perf_counter()
        decode = _v2_decoder(inputs)
        payload, prediction = await self._run(served, decode, proba)
        self._after(call, table, served, payload, prediction, started, decode, proba)
        outputs = prediction.outputs
        named = list(outputs.items()) if isinstance(outputs, dict) else [(PREDICT, outputs)]
        if prediction.probabilities is not None:
            named.append((PROBA, prediction.probabilities))
        answer: dict[str, Any] = {
            "model_name": served.model, "model_version": served.label,
            "id": doc.get("id") if isinstance(doc.get("id"), str) else call.request_id,
            "outputs": [tensor_json(n, v) for n, v in named if wanted is None or n in wanted],
        }
        if isinstance(doc.get("parameters"), dict):
            answer["parameters"] = doc["parameters"]
        return 200, orjson.dumps(answer, option=_DUMP), _JSON

    def _after(self, call: Call, table: RoutingTable, served: Served, payload: Payload,
               prediction: Prediction, started: float, decode: Callable, proba: bool) -> None:
        """Log the answer and send the shadow copies - nothing here waits."""
        latency = (time.perf_counter() - started) * 1000
        if self.log is not None:
            self._log(table, served, call.request_id, payload, prediction, latency, False)
        for shadow in table.router.shadows:
            shadow.inflight += 1  # held from now, so an unload waits for this copy too
            if not self.shadows.send(lambda s=shadow: self._shadow(
                    table, s, call.request_id, decode, proba)):
                shadow.inflight -= 1

    async def _shadow(self, table: RoutingTable, served: Served, request_id: str,
                      decode: Callable, proba: bool) -> None:
        started = time.perf_counter()
        try:
            payload = decode(served.codec)
            prediction = await served.batcher.submit(payload, payload.rows, proba)
        except Exception as exc:
            self.metrics.shadow_done(served, "error")
            logger.debug("shadow %s/%s failed: %s", served.model, served.version, exc)
            return
        finally:
            served.inflight -= 1
        self.metrics.shadow_done(served, "ok")
        if self.log is not None:
            latency = (time.perf_counter() - started) * 1000
            self._log(table, served, request_id, payload, prediction, latency, True)

    def _log(self, table: RoutingTable, served: Served, request_id: str, payload: Payload,
             prediction: Prediction, latency_ms: float, shadow: bool) -> None:
        state = table.state
        extra: dict[str, Any] = {}
        if state.log_masked:
            extra["masked"] = state.log_masked
        if state.log_hashed:
            extra["hashed"] = state.log_hashed
        try:
            self.log.log(LoggedPrediction(  # type: ignore[union-attr]
                deployment=state.name, model=served.model, version=served.version,
                request_id=request_id, timestamp_ms=int(time.time() * 1000),
                inputs=served.codec.frame(payload), outputs=prediction.outputs,
                latency_ms=latency_ms, shadow=shadow, probabilities=prediction.probabilities,
                extra=extra))
        except Exception as exc:
            self.metrics.log_dropped()
            logger.warning("the inference log refused request %s: %s", request_id, exc)

    # -- health, metadata, metrics, feedback ----------------------------------------------

    async def _live(self, call: Call) -> tuple[int, bytes, bytes]:
        return 200, b'{"live":true}', _JSON

    async def _ready(self, call: Call) -> tuple[int, bytes, bytes]:
        if self.host.ready:
            return 200, b'{"ready":true}', _JSON
        return 503, orjson.dumps({"ready": False, "error": f"not loaded yet{self._why()}"}), _JSON

    async def _server_metadata(self, call: Call) -> tuple[int, bytes, bytes]:
        from gannet import __version__

        doc = {"name": SERVER_NAME, "version": __version__, "extensions": []}
        return 200, orjson.dumps(doc), _JSON

    async def _model_metadata(self, call: Call, name: str,
                              version: str | None) -> tuple[int, bytes, bytes]:
        table, served = self._served(call, name, version)
        return 200, orjson.dumps(served.metadata(table.versions())), _JSON

    async def _model_ready(self, call: Call, name: str,
                           version: str | None) -> tuple[int, bytes, bytes]:
        _, served = self._served(call, name, version)
        return 200, orjson.dumps({"name": served.model, "ready": True}), _JSON

    async def _openapi(self, call: Call) -> tuple[int, bytes, bytes]:
        table = self._table()
        served = table.router.targets[0]
        return 200, orjson.dumps(openapi_document(served.codec.signature, served.model)), _JSON

    async def _metrics(self, call: Call) -> tuple[int, bytes, bytes]:
        body, ctype = self.metrics.exposition()
        return 200, body, ctype.encode()

    async def _feedback(self, call: Call) -> tuple[int, bytes, bytes]:
        doc = await self._json(call)
        if self.feedback is None:
            raise Problem(501, "this server keeps no inference log, so it takes no feedback")
        if not isinstance(doc, dict) or not isinstance(doc.get("request_id"), str) or \
                "label" not in doc:
            raise InvalidArgument("feedback is {'request_id': str, 'label': ..., 'row'?: int}")
        row = doc.get("row")
        if row is not None and (not isinstance(row, int) or row < 0):
            raise InvalidArgument(f"'row' must be a non-negative integer, got {row!r}")
        deployment = self._table().state.name
        await asyncio.to_thread(self.feedback, deployment, doc["request_id"], doc["label"],
                                row=row)
        return 200, orjson.dumps({"recorded": True, "request_id": doc["request_id"]}), _JSON


def _predict_decoder(doc: Any) -> Callable[[Codec], Payload]:
    return lambda codec: codec.from_predict(doc)


def _v2_decoder(inputs: list) -> Callable[[Codec], Payload]:
    return lambda codec: codec.from_v2(inputs)


def _wanted_outputs(doc: dict, served: Served) -> set[str] | None:
    outputs = doc.get("outputs")
    if not outputs:
        return None
    if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs):
        raise InvalidArgument("'outputs' must be a list of {'name': ...}")
    known = {o["name"] for o in served.outputs}
    wanted = {o["name"] for o in outputs}
    unknown = wanted - known
    if unknown:
        raise InvalidArgument(f"unknown output {', '.join(sorted(unknown))}; this model gives: "
                              f"{', '.join(sorted(known))}")
    return wanted
