"""The inference server's ASGI app: Open Inference Protocol V2, ``/predict``, metrics.

Raw ASGI (no framework on the request path): a request costs a dict lookup to route,
one ``orjson.loads``, the codec's decode, a batched predict and one ``orjson.dumps``.

Routes: ``/v2/health/live``, ``/v2/health/ready`` (503 until the models are loaded),
``GET /v2``, ``GET /v2/models/{name}[/versions/{v}]`` (+ ``/ready``, ``POST .../infer``),
``POST /predict``, MLflow's ``POST /invocations`` and ``GET /ping`` / ``GET /health``
(``scoring``), ``GET /openapi.json``, ``GET /docs`` (``docs``), ``GET /metrics``
(Prometheus), ``POST /feedback``, ``POST /explain`` and ``POST /v2/models/{name}/explain``
(``explain``: per-feature contributions, bounded, off the predict path). The inference
routes are ``inference``'s; the others are answered here. A request using Triton's binary
tensor extension (its ``Inference-Header-Content-Length`` header) is 400 on every route,
before its body is read.

Every response carries ``x-request-id`` (the caller's, or a new one; also in the body),
``x-model-name`` and ``x-model-version``. Every error is ``envelope``'s one shape,
``{"error", "code", "hint", "request_id"}``, with the status of its error class:
malformed JSON 400, an unknown route or model 404, a wrong method 405, a body that does
not arrive within the read timeout 408, a body over the limit 413, input the signature
refuses 422 (its message names the column), a model that raises 500 (the server keeps
serving), feedback without a log 501, not loaded yet 503.
``/invocations`` answers errors in MLflow's shape instead (``scoring.mlflow_error``).
Each error answer is logged once, by ``_log_error``: a 4xx as one line, a model failure
or a bug with its traceback.

Around each answer: the CORS headers and preflights (``cors.Cors``, off unless origins are
given), one line in the access log when it is on, and the metrics - predictions in the
request counters and latency, everything else (probes, scrapes, docs) apart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson

from gannet.core.errors import (
    EndpointNotFound,
    GannetError,
    MethodNotAllowed,
    ModelFailed,
    NotReady,
    NotSupported,
)
from gannet.serving.log.types import PredictionLog
from gannet.serving.server.cors import Cors, access_line, use_access_log
from gannet.serving.server.docs import STATIC, SwaggerDocs
from gannet.serving.server.envelope import error_envelope
from gannet.serving.server.explain import (
    DEFAULT_EXPLAIN_ROWS,
    DEFAULT_EXPLAIN_TIMEOUT,
    ExplainEndpoints,
)
from gannet.serving.server.feedback import DEFAULT_MAX_FEEDBACK_BYTES, feedback_fields
from gannet.serving.server.host import ModelHost
from gannet.serving.server.inference import JSON, Answer, InferenceEndpoints
from gannet.serving.server.metrics import ServerMetrics
from gannet.serving.server.openapi import openapi_document
from gannet.serving.server.protocol import BINARY_HEADER, binary_refused
from gannet.serving.server.request import Call, read_json, request_id
from gannet.serving.server.router import ShadowSender
from gannet.serving.server.scoring import MlflowScoring, mlflow_error

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_FEEDBACK_BYTES", "InferenceApp", "create_app"]

logger = logging.getLogger("gannet.serving")

DEFAULT_MAX_BODY = 32 * 1024 * 1024
SERVER_NAME = "gannet"
Feedback = Callable[..., None]  # (deployment, request_id, label, *, row=None)
Handler = Callable[..., Awaitable[Answer]]
PREDICTIONS = frozenset({"/predict", "/invocations", "/v2/models/{name}/infer"})  # routes
INVOCATIONS = "/invocations"


def create_app(
    host: ModelHost,
    *,
    log: PredictionLog | None = None,
    feedback: Feedback | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    max_feedback_bytes: int = DEFAULT_MAX_FEEDBACK_BYTES,
    metrics: ServerMetrics | None = None,
    shadow_limit: int = 256,
    cors_origins: tuple[str, ...] = (),
    access_log: bool = False,
    explain_max_rows: int = DEFAULT_EXPLAIN_ROWS,
    explain_timeout: float = DEFAULT_EXPLAIN_TIMEOUT,
) -> InferenceApp:
    """The ASGI app over ``host``; ``feedback`` defaults to ``log.feedback`` when it has one
    (``InferenceLogWriter``'s queues labels and writes them in batches)."""
    return InferenceApp(host, log=log, feedback=feedback, max_body_bytes=max_body_bytes,
                        max_feedback_bytes=max_feedback_bytes, metrics=metrics,
                        shadow_limit=shadow_limit, cors_origins=cors_origins,
                        access_log=access_log, explain_max_rows=explain_max_rows,
                        explain_timeout=explain_timeout)


class InferenceApp:
    def __init__(
        self,
        host: ModelHost,
        *,
        log: PredictionLog | None,
        feedback: Feedback | None,
        max_body_bytes: int,
        max_feedback_bytes: int,
        metrics: ServerMetrics | None,
        shadow_limit: int,
        cors_origins: tuple[str, ...] = (),
        access_log: bool = False,
        explain_max_rows: int = DEFAULT_EXPLAIN_ROWS,
        explain_timeout: float = DEFAULT_EXPLAIN_TIMEOUT,
    ) -> None:
        self.host = host
        self.log = log
        self.feedback = feedback or getattr(log, "feedback", None)
        self.max_body_bytes = max_body_bytes
        self.max_feedback_bytes = max_feedback_bytes
        self.metrics = metrics or ServerMetrics(log)
        if host.observe_batch is None:
            host.observe_batch = self.metrics.batch_observer
        if host.on_feature_failure is None:
            host.on_feature_failure = self.metrics.feature_failure
        if host.features is not None:
            self.metrics.watch_features(host.feature_views, host.features.staleness)
        self.shadows = ShadowSender(shadow_limit, on_drop=self.metrics.shadow_dropped)
        self.inference = InferenceEndpoints(host, log, self.metrics, self.shadows,
                                            max_body_bytes)
        self.scoring = MlflowScoring(self.inference, max_body_bytes)
        self.explainer = ExplainEndpoints(host, max_body_bytes, max_rows=explain_max_rows,
                                          timeout_s=explain_timeout)
        self.docs = SwaggerDocs()
        self.cors = Cors(cors_origins)
        self.access_log = use_access_log() if access_log else None
        self._fixed: dict[tuple[str, str], tuple[str, Handler]] = {
            ("GET", "/v2/health/live"): ("/v2/health/live", self._live),
            ("GET", "/v2/health/ready"): ("/v2/health/ready", self._ready),
            ("GET", "/ping"): ("/ping", self._ready),
            ("GET", "/health"): ("/health", self._ready),
            ("GET", "/v2"): ("/v2", self._server_metadata),
            ("POST", "/predict"): ("/predict", self.inference.predict),
            ("POST", INVOCATIONS): (INVOCATIONS, self.scoring.invocations),
            ("GET", "/openapi.json"): ("/openapi.json", self._openapi),
            ("GET", "/docs"): ("/docs", self._docs),
            ("GET", "/metrics"): ("/metrics", self._metrics),
            ("POST", "/feedback"): ("/feedback", self._feedback),
            ("POST", "/explain"): ("/explain", self.explainer.explain),
        }
        self._model_routes: dict[tuple[str, str], tuple[str, Handler]] = {
            ("GET", ""): ("/v2/models/{name}", self._model_metadata),
            ("GET", "ready"): ("/v2/models/{name}/ready", self._model_ready),
            ("POST", "infer"): ("/v2/models/{name}/infer", self.inference.infer),
            ("POST", "explain"): ("/v2/models/{name}/explain", self.explainer.explain_named),
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
        await self.explainer.close()
        await self.host.stop()
        if self.log is not None:
            await asyncio.to_thread(self.log.close)

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        call = Call(scope, receive, headers, request_id(headers.get("x-request-id")))
        predicting = scope["method"] == "POST" and _predicts(scope["path"])
        if predicting:
            self.metrics.inflight.inc()
        try:
            status, body, ctype = await self._dispatch(call)
        except Exception as exc:
            status, body, ctype = self._error(call, exc)
        finally:
            if predicting:
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
            *call.answer_headers,
        ]
        if self.cors.on and call.route != "preflight":  # (a preflight's are its own)
            response.extend(self.cors.answer_headers(headers))
        await send({"type": "http.response.start", "status": status, "headers": response})
        await send({"type": "http.response.body", "body": body})
        seconds = time.perf_counter() - started
        if call.route in PREDICTIONS:
            self.metrics.done(call.route, call.model, call.version, status, seconds)
        else:  # probes, scrapes and docs are not traffic
            self.metrics.other_done(call.route, status)
        if self.access_log is not None:
            self.access_log.info(access_line(scope.get("client"), scope["method"],
                                             scope["path"], status, seconds, call.request_id))

    async def _dispatch(self, call: Call) -> Answer:
        method, path = call.scope["method"], call.scope["path"]
        if self.cors.is_preflight(method, call.headers):
            call.route = "preflight"
            call.answer_headers = self.cors.preflight(call.headers)
            return 204, b"", b"text/plain"
        if method == "HEAD":
            method = "GET"
        route, handler, args = self._find(method, path)
        call.route = route
        if BINARY_HEADER in call.headers:
            raise binary_refused("the Inference-Header-Content-Length header")
        return await handler(call, *args)

    def _find(self, method: str, path: str) -> tuple[str, Handler, tuple]:
        """The route (its template, for the metrics), its handler and the path's values."""
        found = self._fixed.get((method, path))
        if found is not None:
            return found[0], found[1], ()
        if path.startswith("/v2/models/"):
            parts = path[len("/v2/models/"):].split("/")
            name, version = parts[0], None
            if len(parts) >= 3 and parts[1] == "versions":
                version, parts = parts[2], parts[2:]
            action = "/".join(parts[1:])
            route = self._model_routes.get((method, action))
            if route is not None and name:
                return route[0], route[1], (name, version)
            if any(key[1] == action for key in self._model_routes):
                raise _not_allowed(method, path)
        if path.startswith(STATIC):
            if method != "GET":
                raise _not_allowed(method, path)
            return "/docs/static", self._static, (path,)
        if any(key[1] == path for key in self._fixed):
            raise _not_allowed(method, path)
        raise EndpointNotFound(f"no route {path}", "see GET /openapi.json for the routes")

    def _error(self, call: Call, exc: Exception) -> Answer:
        if call.route == INVOCATIONS:
            status, body = mlflow_error(exc, call.request_id)
        else:
            status, body = error_envelope(exc, call.request_id)
        _log_error(call, exc, status)
        return status, body, JSON

    # -- health, metadata, metrics, feedback ----------------------------------------------

    async def _live(self, call: Call) -> Answer:
        return 200, b'{"live":true}', JSON

    async def _ready(self, call: Call) -> Answer:
        try:
            self.host.serving_table()
        except NotReady as exc:
            status, body = error_envelope(exc, call.request_id, ready=False)
            return status, body, JSON
        return 200, b'{"ready":true}', JSON

    async def _server_metadata(self, call: Call) -> Answer:
        from gannet.core.version import VERSION as __version__

        doc = {"name": SERVER_NAME, "version": __version__, "extensions": []}
        return 200, orjson.dumps(doc), JSON

    async def _model_metadata(self, call: Call, name: str, version: str | None) -> Answer:
        table = self.host.serving_table()
        served = table.get(name, version)
        call.model, call.version = served.model, served.label
        return 200, orjson.dumps(served.metadata(table.versions())), JSON

    async def _model_ready(self, call: Call, name: str, version: str | None) -> Answer:
        served = self.host.serving_table().get(name, version)
        call.model, call.version = served.model, served.label
        return 200, orjson.dumps({"name": served.model, "ready": True}), JSON

    async def _openapi(self, call: Call) -> Answer:
        served = self.host.serving_table().router.targets[0]
        return 200, orjson.dumps(openapi_document(served.codec.request_signature,
                                                       served.model)), JSON

    async def _docs(self, call: Call) -> Answer:
        body, ctype = self.docs.page()
        return 200, body, ctype

    async def _static(self, call: Call, path: str) -> Answer:
        body, ctype = self.docs.static(path)
        return 200, body, ctype

    async def _metrics(self, call: Call) -> Answer:
        body, ctype = self.metrics.exposition()
        return 200, body, ctype.encode()

    async def _feedback(self, call: Call) -> Answer:
        doc = await read_json(call, self.max_feedback_bytes)
        if self.feedback is None:
            raise NotSupported("this server keeps no inference log, so it takes no feedback",
                               "record it with gannet logs feedback, or serve with the log on")
        request_id_, label, row = feedback_fields(doc)
        deployment = self.host.serving_table().state.name
        await asyncio.to_thread(self.feedback, deployment, request_id_, label, row=row)
        return 200, orjson.dumps({"recorded": True, "request_id": request_id_}), JSON


def _log_error(call: Call, exc: Exception, status: int) -> None:
    """A client's mistake (4xx) is one line at INFO, a server that cannot answer now (503
    not ready, 501) one line at WARNING; a model that failed or a bug is an ERROR with its
    traceback (a ``ModelFailed`` carries the model's own as its cause)."""
    message = exc.message if isinstance(exc, GannetError) else f"{type(exc).__name__}: {exc}"
    code = exc.code if isinstance(exc, GannetError) else GannetError.code
    where = f"{call.scope.get('method')} {call.scope.get('path')}"
    if not isinstance(exc, GannetError) or isinstance(exc, ModelFailed):
        logger.error("request %s (%s): %d %s: %s", call.request_id, where, status, code,
                     message, exc_info=exc)
        return
    level = logging.INFO if status < 500 else logging.WARNING
    logger.log(level, "request %s (%s): %d %s: %s", call.request_id, where, status, code,
               " ".join(message.split()))


def _predicts(path: str) -> bool:
    """Whether a POST to ``path`` asks for a prediction (counted in flight)."""
    return path in PREDICTIONS or (path.startswith("/v2/models/") and path.endswith("/infer"))


def _not_allowed(method: str, path: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"{method} is not allowed on {path}",
                            "see GET /openapi.json for the methods of each route")
