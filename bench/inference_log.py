"""How many rows per second the inference log writer sustains, and what ``log()`` costs.

Workloads (each in a fresh temporary folder, one deployment, one version, one date):

1. ``1-row``: 100,000 requests of one row (10 float features, a prediction, 3 class
   probabilities) — a busy online server answering single rows;
2. ``100-row``: 2,000 requests of 100 rows each (micro-batches);
3. ``1-row, masked+hashed``: workload 1 with one feature masked and one hashed.

Each logs as fast as one thread can, then ``close()``; rows/s = rows / (first ``log()``
to ``close()`` returned), so it is what the background writer keeps up with, files on
disk. ``log()`` is also timed alone (median per call, the request path's cost). The
anchor is ``pyarrow.parquet.write_table`` of the same rows already in one Arrow table:
the floor for writing them, with none of the log's work (grouping, row building).

    .venv/bin/python bench/inference_log.py
    .venv/bin/python bench/inference_log.py --quick --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FEATURES = 10


def predictions(requests: int, rows: int, extra: dict[str, Any]) -> list[Any]:
    import numpy as np
    import pandas as pd

    from gannet.serving.log.types import LoggedPrediction

    rng = np.random.default_rng(0)
    columns = [f"f{i}" for i in range(FEATURES)]
    frames = [pd.DataFrame(rng.random((rows, FEATURES)), columns=columns) for _ in range(50)]
    outputs = rng.integers(0, 3, rows)
    proba = rng.random((rows, 3))
    now = int(time.time() * 1000)
    return [
        LoggedPrediction("bench", "bench", 1, f"r{i}", now, frames[i % 50], outputs, 1.0,
                         probabilities=proba, extra=extra)
        for i in range(requests)
    ]


def run_writer(items: list[Any], folder: Path) -> dict[str, float]:
    from gannet.serving.log.writer import InferenceLogWriter

    writer = InferenceLogWriter(folder, max_queue=len(items) + 1)
    started = time.perf_counter()
    for item in items:
        writer.log(item)
    logged = time.perf_counter() - started
    writer.close()
    total = time.perf_counter() - started
    if writer.failed or writer.dropped:
        raise SystemExit(f"the writer lost rows: {writer.failed} failed, {writer.dropped} "
                         f"dropped ({writer.last_error})")
    return {"rows": writer.written, "seconds": total, "rows_per_s": writer.written / total,
            "log_loop_s": logged}


def time_log_call(items: list[Any], folder: Path) -> float:
    """Median µs of one ``log()`` (timed in groups of 100 to stay above clock resolution)."""
    from gannet.serving.log.writer import InferenceLogWriter

    writer = InferenceLogWriter(folder, flush_interval=3600, max_queue=len(items) + 1)
    samples = []
    for start in range(0, len(items) - 100, 100):
        began = time.perf_counter()
        for item in items[start:start + 100]:
            writer.log(item)
        samples.append((time.perf_counter() - began) / 100 * 1e6)
    writer.close()
    return statistics.median(samples)


def anchor(items: list[Any], folder: Path) -> dict[str, float]:
    import pyarrow.parquet as pq

    from gannet.serving.log.rows import predictions_tables

    table = predictions_tables(items, salt=b"salt")[0]
    started = time.perf_counter()
    pq.write_table(table, folder / "anchor.parquet", compression="zstd")
    seconds = time.perf_counter() - started
    return {"rows": table.num_rows, "seconds": seconds, "rows_per_s": table.num_rows / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests")
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    workloads = [
        ("1-row", 100_000 // scale, 1, {}),
        ("100-row", 2_000 // scale, 100, {}),
        ("1-row, masked+hashed", 100_000 // scale, 1, {"masked": ("f0",), "hashed": ("f1",)}),
    ]
    results = []
    for name, requests, rows, extra in workloads:
        items = predictions(requests, rows, extra)
        with tempfile.TemporaryDirectory(prefix="gannet-bench-") as tmp:
            written = run_writer(items, Path(tmp) / "log")
            per_call = time_log_call(items, Path(tmp) / "timed")
            floor = anchor(items, Path(tmp))
        results.append({"workload": name, "requests": requests, "rows_per_request": rows,
                        "writer": written, "log_call_us": per_call, "anchor": floor,
                        "ratio_to_anchor": written["rows_per_s"] / floor["rows_per_s"]})
        if not args.json:
            print(f"{name:<22} {written['rows']:>9,} rows  writer {written['rows_per_s']:>12,.0f}"
                  f" rows/s  log() {per_call:5.2f} µs  pyarrow write_table alone "
                  f"{floor['rows_per_s']:>12,.0f} rows/s  (x{results[-1]['ratio_to_anchor']:.2f})",
                  file=sys.stdout, flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
