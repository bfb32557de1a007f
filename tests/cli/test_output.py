"""How values are shown: durations, sizes, sparklines, JSON of non-finite numbers."""

import math

import pytest

from gannet.cli import output
from gannet.tracking.types import Metric


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (None, ""),
        (850, "850ms"),
        (3_200, "3.2s"),
        (252_000, "4m12s"),
        (7_500_000, "2h05m"),
        (270_000_000, "3d3h"),
    ],
)
def test_durations_read_as_people_say_them(ms, shown):
    assert output.format_duration(ms) == shown


def test_sizes():
    assert output.format_size(512) == "512 B"
    assert output.format_size(5000) == "4.9 KiB"
    assert output.format_size(3 * 1024**3) == "3.0 GiB"


def test_sparkline_scales_samples_and_marks_non_finite_points():
    assert output.sparkline([]) == ""
    assert output.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert output.sparkline([1.0, math.nan, 3.0]) == "▁·█"
    long = output.sparkline([float(i) for i in range(1000)], width=10)
    assert len(long) == 10
    assert long[0] == "▁" and long[-1] == "█"


def test_json_writes_non_finite_numbers_as_strings():
    data = output.jsonable({"m": [Metric("a", math.nan, 1), Metric("b", -math.inf, 2, 3)]})
    assert data == {
        "m": [
            {"key": "a", "value": "NaN", "timestamp": 1, "step": 0},
            {"key": "b", "value": "-Infinity", "timestamp": 2, "step": 3},
        ]
    }
    assert output.jsonable(math.inf) == "Infinity"
    assert output.jsonable(0.5) == 0.5
