"""The REST API's one encoding: a service's types survive the trip, non-finite floats too."""

import math

import orjson

from gannet.core import wire
from gannet.tracking.types import Metric, Run, RunData, RunInfo, RunStatus


def _run(metrics: dict[str, float]) -> Run:
    info = RunInfo("r1", "0", "name", RunStatus.FINISHED, 1, 2, None, "ana", "train.py",
                   "LOCAL", None, "active", "gannet:/runs/r1/artifacts")
    return Run(info, RunData(metrics, {"p": "1"}, {"t": "x"}))


def test_dataclasses_and_enums_come_back_equal():
    run = _run({"loss": 0.25})
    assert wire.load(Run, orjson.loads(wire.dumps(run))) == run
    assert wire.load(list[Run] | None, orjson.loads(wire.dumps([run]))) == [run]


def test_non_finite_floats_travel_as_strings_and_come_back():
    run = _run({"nan": math.nan, "up": math.inf, "down": -math.inf, "fine": 1.5})
    body = orjson.loads(wire.dumps({"runs": [run]}))
    assert body["runs"][0]["data"]["metrics"] == {
        "nan": "NaN", "up": "Infinity", "down": "-Infinity", "fine": 1.5}
    back = wire.load(Run, body["runs"][0]).data.metrics
    assert math.isnan(back["nan"]) and back["up"] == math.inf and back["down"] == -math.inf
    point = wire.load(Metric, orjson.loads(wire.dumps(Metric("m", math.nan, 5, 1))))
    assert math.isnan(point.value) and (point.timestamp, point.step) == (5, 1)
