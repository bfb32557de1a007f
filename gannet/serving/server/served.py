"""A loaded model version as the server holds it, and how a batch runs through it.

``Served`` is one loaded, warmed-up version with its codec and micro-batcher.
``batch_runner`` is what its batcher calls in a worker thread: prepare the batch (a
deployment's features: one online-store lookup, whose failure fails the whole batch),
merge the requests' rows, ONE ``predict`` (and ``predict_proba``), split the answers back
per request. What the model raises becomes that request's ``ModelFailed`` (input the
signature refuses stays its ``InvalidInput``); when a merged batch fails, each request is
retried alone, so one bad request fails only itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gannet.core.errors import GannetError, ModelFailed
from gannet.models.package import LoadedModel
from gannet.serving.server.batching import MicroBatcher
from gannet.serving.server.codecs import Codec, Payload
from gannet.serving.server.protocol import datatype_of

__all__ = ["PREDICT", "PROBA", "Prediction", "Served", "batch_runner", "outputs_metadata"]

PREDICT, PROBA = "predict", "predict_proba"  # the V2 names of a model's outputs


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


def batch_runner(
    loaded: LoadedModel, codec: Codec, label: str
) -> Callable[[Sequence[Payload], bool], list]:
    """The batch function for ``loaded`` (``label``: ``churn/3``, for messages)."""

    def run(payloads: Sequence[Payload], proba: bool) -> list:
        rows = [p.rows for p in payloads]
        try:
            codec.prepare(payloads)  # once for the batch (its features: one lookup)
        except Exception as exc:
            return [_failure(exc, label)] * len(payloads)
        try:
            data = codec.merge(payloads)
            outputs = _as_array(loaded.predict(data))
            probabilities = None
            if proba and loaded.has_predict_proba:
                probabilities = _as_array(loaded.predict_proba(data))
            _check_rows(outputs, probabilities, sum(rows), label)
        except Exception as exc:
            if len(payloads) == 1:
                return [_failure(exc, label)]
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


def _failure(exc: Exception, label: str) -> GannetError:
    """What a request is answered when its predict raised ``exc``."""
    if isinstance(exc, GannetError):
        return exc
    failed = ModelFailed(f"model {label} failed: {type(exc).__name__}: {exc}")
    failed.__cause__ = exc
    return failed


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


def _check_rows(outputs: Any, probabilities: Any, rows: int, label: str) -> None:
    arrays = list(outputs.values()) if isinstance(outputs, dict) else [outputs]
    if probabilities is not None:
        arrays.append(probabilities)
    for array in arrays:
        if array.ndim == 0 or len(array) != rows:
            raise ModelFailed(f"model {label} returned {array.shape} for {rows} input rows")


def outputs_metadata(example: Prediction) -> list[dict[str, Any]]:
    """V2 metadata (name, datatype, shape) of the outputs of one answered request."""
    outputs = example.outputs
    named = outputs.items() if isinstance(outputs, dict) else [(PREDICT, outputs)]
    found = [{"name": n, "datatype": datatype_of(a.dtype), "shape": [-1, *a.shape[1:]]}
             for n, a in named]
    if example.probabilities is not None:
        p = example.probabilities
        found.append({"name": PROBA, "datatype": datatype_of(p.dtype),
                      "shape": [-1, *p.shape[1:]]})
    return found
