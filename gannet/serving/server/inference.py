"""Answering inference requests: ``POST /predict`` and V2 ``.../infer``, then the log and
the shadow copies.

A request is decoded by the chosen version's codec (``decode``), joins that version's
micro-batch, and is answered. What happened to it travels as ONE ``Exchange`` (slots: it
is on the hot path) to ``_after``, which hands it to the inference log and sends a copy
to each shadow version in the background; nothing there makes the caller wait.

A model that raises is ``ModelFailed`` (500: the server keeps serving); input that the
codec or the signature refuses is ``InvalidInput`` (422, its message names the column).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from gannet.core.errors import GannetError, InvalidInput, ModelFailed
from gannet.serving.log.types import LoggedPrediction, PredictionLog
from gannet.serving.server.bodies import read_prediction_body
from gannet.serving.server.codecs import Codec, Payload
from gannet.serving.server.host import ModelHost, RoutingTable
from gannet.serving.server.metrics import ServerMetrics
from gannet.serving.server.protocol import tensor_json, v2_inputs, wire_array
from gannet.serving.server.request import Call, flag, read_json, request_id
from gannet.serving.server.router import ShadowSender, sticky_value
from gannet.serving.server.served import PREDICT, PROBA, Prediction, Served

__all__ = ["Decode", "Exchange", "InferenceEndpoints", "predictions"]

logger = logging.getLogger("gannet.serving")

JSON = b"application/json"
Answer = tuple[int, bytes, bytes]  # status, body, content type
Decode = Callable[[Codec], Payload]  # a request's body as one version's codec reads it
_DUMP = orjson.OPT_SERIALIZE_NUMPY


@dataclass(slots=True)
class Exchange:
    """One inference as it was answered (or, for a shadow, computed): the request, the
    routing table it read, the version that served it, and what it gave."""

    call: Call
    table: RoutingTable
    served: Served
    decode: Decode
    proba: bool
    started: float  # time.perf_counter() when its prediction started
    payload: Payload | None = None
    prediction: Prediction | None = None
    shadow: bool = False

    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class InferenceEndpoints:
    """``/predict`` and V2 infer over ``host``; answered requests go to ``log`` and shadows."""

    def __init__(self, host: ModelHost, log: PredictionLog | None, metrics: ServerMetrics,
                 shadows: ShadowSender, max_body_bytes: int) -> None:
        self.host = host
        self.log = log
        self.metrics = metrics
        self.shadows = shadows
        self.max_body_bytes = max_body_bytes

    async def predict(self, call: Call) -> Answer:
        body = await read_prediction_body(call, self.max_body_bytes, _predict_decoder)
        doc = body.doc
        proba = flag(call.query("probabilities")) or (
            isinstance(doc, dict) and flag(doc.get("probabilities")))
        served, prediction = await self.answer(call, doc, body.decode, proba)
        answer: dict[str, Any] = {"predictions": predictions(prediction.outputs)}
        if prediction.probabilities is not None:
            answer["probabilities"] = wire_array(prediction.probabilities)
        answer.update(model=served.model, version=served.label, request_id=call.request_id)
        return 200, orjson.dumps(answer, option=_DUMP), JSON

    async def answer(self, call: Call, doc: Any, decode: Decode,
                     proba: bool) -> tuple[Served, Prediction]:
        """Route ``call`` (``doc``: its JSON, for the sticky key), predict, then log it and
        send the shadow copies (``/predict`` and MLflow's ``/invocations``)."""
        table = self.host.serving_table()
        served = self._route(call, table, doc)
        exchange = Exchange(call, table, served, decode, served.has_proba and proba,
                            time.perf_counter())
        prediction = await self._run(exchange)
        self._after(exchange)
        return served, prediction

    async def infer(self, call: Call, name: str, version: str | None) -> Answer:
        doc = await read_json(call, self.max_body_bytes)
        table = self.host.serving_table()
        served = self._named(call, table, name, version)
        if isinstance(doc, dict) and call.rid is None and isinstance(doc.get("id"), str):
            call.rid = request_id(doc["id"])
        inputs = v2_inputs(doc)
        if version is None:
            served = self._route(call, table, doc)
        wanted = _wanted_outputs(doc, served)
        proba = served.has_proba and (wanted is None or PROBA in wanted)
        exchange = Exchange(call, table, served, _v2_decoder(inputs), proba, time.perf_counter())
        prediction = await self._run(exchange)
        self._after(exchange)
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
        return 200, orjson.dumps(answer, option=_DUMP), JSON

    # -- choosing the version -------------------------------------------------------------

    def _route(self, call: Call, table: RoutingTable, doc: Any) -> Served:
        served = table.router.choose(sticky_value(table.state.sticky_key, call.headers, doc))
        call.model, call.version = served.model, served.label
        return served

    @staticmethod
    def _named(call: Call, table: RoutingTable, name: str, version: str | None) -> Served:
        served = table.get(name, version)
        call.model, call.version = served.model, served.label
        return served

    # -- predicting -----------------------------------------------------------------------

    async def _run(self, exchange: Exchange) -> Prediction:
        """Decode the request for its version and wait for its batch's answer."""
        served = exchange.served
        served.inflight += 1
        try:
            try:
                exchange.payload = payload = exchange.decode(served.codec)
            except (ValueError, TypeError, KeyError) as exc:
                raise InvalidInput(f"cannot read the input: {type(exc).__name__}: "
                                   f"{exc}") from exc
            exchange.prediction = await served.batcher.submit(
                payload, payload.rows, exchange.proba)
        except GannetError:
            raise  # the app logs it: one line for a 4xx, the traceback for a 5xx
        except Exception as exc:
            raise ModelFailed(f"model {served.model}/{served.version} failed: "
                              f"{type(exc).__name__}: {exc}") from exc
        finally:
            served.inflight -= 1
        return exchange.prediction

    def _after(self, exchange: Exchange) -> None:
        """Log the answer and send the shadow copies - nothing here waits."""
        if self.log is not None:
            self._log(exchange)
        for shadow in exchange.table.router.shadows:
            shadow.inflight += 1  # held from now, so an unload waits for this copy too
            if not self.shadows.send(partial(self._shadow, exchange, shadow)):
                shadow.inflight -= 1

    async def _shadow(self, answered: Exchange, served: Served) -> None:
        """``answered``'s request once more, on shadow version ``served``; logged only."""
        exchange = Exchange(answered.call, answered.table, served, answered.decode,
                            answered.proba, time.perf_counter(), shadow=True)
        try:
            exchange.payload = exchange.decode(served.codec)
            exchange.prediction = await served.batcher.submit(
                exchange.payload, exchange.payload.rows, exchange.proba)
        except Exception as exc:
            self.metrics.shadow_done(served, "error")
            logger.debug("shadow %s/%s failed: %s", served.model, served.version, exc)
            return
        finally:
            served.inflight -= 1
        self.metrics.shadow_done(served, "ok")
        if self.log is not None:
            self._log(exchange)

    def _log(self, exchange: Exchange) -> None:
        """Hand the exchange to the inference log; a log that refuses it is counted."""
        state, served, prediction = exchange.table.state, exchange.served, exchange.prediction
        assert exchange.payload is not None  # an exchange is logged once it was answered
        assert prediction is not None
        extra: dict[str, Any] = {}
        if state.log_masked:
            extra["masked"] = state.log_masked
        if state.log_hashed:
            extra["hashed"] = state.log_hashed
        try:
            self.log.log(LoggedPrediction(  # type: ignore[union-attr]
                deployment=state.name, model=served.model, version=served.version,
                request_id=exchange.call.request_id, timestamp_ms=int(time.time() * 1000),
                inputs=served.codec.logged(exchange.payload), outputs=prediction.outputs,
                latency_ms=exchange.latency_ms(), shadow=exchange.shadow,
                probabilities=prediction.probabilities, extra=extra))
        except Exception as exc:
            self.metrics.log_dropped()
            logger.warning("the inference log refused request %s: %s",
                           exchange.call.request_id, exc)


def predictions(outputs: Any) -> Any:
    """A model's outputs as the ``predictions`` of an answer (a dict: one list per name)."""
    if isinstance(outputs, dict):
        return {k: wire_array(v) for k, v in outputs.items()}
    return wire_array(outputs)


def _predict_decoder(doc: Any) -> Decode:
    return lambda codec: codec.from_predict(doc)


def _v2_decoder(inputs: list) -> Decode:
    return lambda codec: codec.from_v2(inputs)


def _wanted_outputs(doc: dict, served: Served) -> set[str] | None:
    outputs = doc.get("outputs")
    if not outputs:
        return None
    if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs):
        raise InvalidInput("'outputs' must be a list of {'name': ...}")
    known = {o["name"] for o in served.outputs}
    wanted = {o["name"] for o in outputs}
    unknown = wanted - known
    if unknown:
        raise InvalidInput(f"unknown output {', '.join(sorted(unknown))}; this model gives: "
                           f"{', '.join(sorted(known))}")
    return wanted
