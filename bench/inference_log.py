"""The inference log: how fast the writer turns requests into Parquet, how many files a day
leaves behind, and how fast DuckDB scans ten million logged rows.

1. **Writer** (each workload in a fresh temporary folder, one deployment and version):
   ``1-row`` 100,000 requests of one row (10 float features, a prediction, 3 class
   probabilities) handed over as the inference server hands them (a ``Matrix``);
   ``100-row`` 2,000 requests of 100 rows; ``1-row, masked+hashed`` the first with one
   feature masked and one hashed; ``1-row, DataFrame`` the first with each request's
   inputs a pandas DataFrame (what SDK callers may hand over). Each logs as fast as one
   thread can, then ``close()``: rows/s = rows / (first ``log()`` to ``close()``
   returned), files on disk. ``log()`` is also timed alone (median per call: the request
   path's cost). The anchor: ``pyarrow.parquet.write_table`` of the same rows already in
   one Arrow table, the floor for writing them with none of the log's work.
2. **Files a day** at 100 requests/s with the default 1 s flush (one segment file per
   second, as a server writes them), the compaction running every 10 minutes as a
   server's housekeeping does, over ``--hours`` simulated hours (24 by default; the count
   per day is scaled from them). Goal: under 100 files per version per day.
3. **Scan**: 10,000,000 rows (100,000 requests of 100 rows over a simulated day, written
   by the writer's own code and compacted into hourly files) queried through
   ``InferenceLog.query`` (what ``gannet logs query`` runs): a count with averages, and a
   GROUP BY over the predictions. Anchor: DuckDB's own ``read_parquet`` of the same
   files. Goal: within a few seconds.

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
HOUR_MS = 3_600_000
DAY0 = 1_717_200_000_000  # 2024-06-01T00:00:00Z
NAMES = tuple(f"f{i}" for i in range(FEATURES))


def predictions(requests: int, rows: int, extra: dict[str, Any], *, frames: bool = False,
                start_ms: int | None = None, step_ms: int = 0) -> list[Any]:
    import numpy as np
    import pandas as pd

    from gannet.serving.log.types import LoggedPrediction, Matrix

    rng = np.random.default_rng(0)
    values = [rng.random((rows, FEATURES)) for _ in range(50)]
    inputs = [pd.DataFrame(v, columns=list(NAMES)) if frames else Matrix(NAMES, v)
              for v in values]
    outputs = rng.integers(0, 3, rows)
    proba = rng.random((rows, 3))
    now = int(time.time() * 1000) if start_ms is None else start_ms
    return [
        LoggedPrediction("bench", "bench", 1, f"r{i}", now + i * step_ms, inputs[i % 50],
                         outputs, 1.0, probabilities=proba, extra=extra)
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


def writer_workloads(scale: int, quiet: bool) -> list[dict[str, Any]]:
    workloads = [
        ("1-row", 100_000 // scale, 1, {}, False),
        ("100-row", 2_000 // scale, 100, {}, False),
        ("1-row, masked+hashed", 100_000 // scale, 1, {"masked": ("f0",), "hashed": ("f1",)},
         False),
        ("1-row, DataFrame", 100_000 // scale, 1, {}, True),
    ]
    results = []
    for name, requests, rows, extra, frames in workloads:
        items = predictions(requests, rows, extra, frames=frames)
        with tempfile.TemporaryDirectory(prefix="gannet-bench-") as tmp:
            written = run_writer(items, Path(tmp) / "log")
            per_call = time_log_call(items, Path(tmp) / "timed")
            floor = anchor(items, Path(tmp))
        results.append({"workload": name, "requests": requests, "rows_per_request": rows,
                        "writer": written, "log_call_us": per_call, "anchor": floor,
                        "ratio_to_anchor": written["rows_per_s"] / floor["rows_per_s"]})
        if not quiet:
            print(f"{name:<22} {written['rows']:>9,} rows  writer {written['rows_per_s']:>12,.0f}"
                  f" rows/s  log() {per_call:5.2f} µs  pyarrow write_table alone "
                  f"{floor['rows_per_s']:>12,.0f} rows/s  (x{results[-1]['ratio_to_anchor']:.2f})",
                  flush=True)
    return results


def files_per_day(hours: int, quiet: bool) -> dict[str, Any]:
    """Segments as a server at 100 requests/s writes them (one per second), compacted every
    10 simulated minutes; the files the day leaves once its last hour is merged."""
    from rich.progress import Progress

    from gannet.serving.log.compaction import DEFAULT_GRACE_MS, DEFAULT_KEEP_MS, compact
    from gannet.serving.log.rows import predictions_tables
    from gannet.serving.log.schema import segment_name
    from gannet.serving.log.storage import LogStorage

    folder = "deployment=bench/version=1/date=2024-06-01"
    template = predictions_tables(predictions(100, 1, {}, start_ms=DAY0), None)[0]
    peak = written = 0
    with tempfile.TemporaryDirectory(prefix="gannet-bench-") as tmp, \
            Progress(disable=quiet, transient=True) as progress:
        storage = LogStorage(Path(tmp) / "log")
        task = progress.add_task(f"a {hours} h day of segments", total=hours * 3600)
        for second in range(hours * 3600):
            now = DAY0 + second * 1000
            storage.write_table(folder, segment_name(now), template)
            written += 1
            if second % 600 == 599:
                compact(storage, at_ms=now)
                peak = max(peak, len(storage.files(folder)))
            progress.advance(task)
        end = DAY0 + hours * HOUR_MS
        compact(storage, at_ms=end + DEFAULT_GRACE_MS)
        compact(storage, at_ms=end + DEFAULT_GRACE_MS + DEFAULT_KEEP_MS)
        left = len(storage.files(folder))
    result = {"hours": hours, "segments_written": written, "files_left": left,
              "files_per_day": left * 24 / hours, "peak_files": peak}
    if not quiet:
        print(f"files a day at 100 req/s: {written:,} segments in {hours} h -> {left} files "
              f"({result['files_per_day']:.0f} a day; at most {peak:,} at once; goal < 100)",
              flush=True)
    return result


def scan(total_rows: int, quiet: bool) -> dict[str, Any]:
    """``total_rows`` logged rows over one simulated day, compacted, then queried."""
    import duckdb

    from gannet.serving.log.compaction import DEFAULT_GRACE_MS, DEFAULT_KEEP_MS
    from gannet.serving.log.reader import InferenceLog
    from gannet.serving.log.rows import predictions_tables
    from gannet.serving.log.schema import segment_name

    requests = total_rows // 100
    per_minute = max(1, requests // 1440)
    items = predictions(requests, 100, {}, start_ms=DAY0, step_ms=max(1, 86_400_000 // requests))
    with tempfile.TemporaryDirectory(prefix="gannet-bench-") as tmp:
        log = InferenceLog(Path(tmp) / "log")
        folder = "deployment=bench/version=1/date=2024-06-01"
        for start in range(0, requests, per_minute):
            chunk = items[start:start + per_minute]
            for table in predictions_tables(chunk, None):
                log.storage.write_table(folder, segment_name(chunk[0].timestamp_ms), table)
        end = DAY0 + 24 * HOUR_MS
        log.compact(at_ms=end + DEFAULT_GRACE_MS)
        log.compact(at_ms=end + DEFAULT_GRACE_MS + DEFAULT_KEEP_MS)
        files = log.storage.files(folder)
        queries = {
            "count+avg": 'SELECT count(*) AS n, avg(latency_ms) AS ms, avg("input.f0") AS f0 '
                         "FROM predictions",
            "group by prediction": 'SELECT prediction, count(*) AS n, avg("proba.1") AS p '
                                   "FROM predictions GROUP BY prediction",
        }
        timings = {}
        for name, sql in queries.items():
            started = time.perf_counter()
            result = log.query("bench", sql)
            timings[name] = time.perf_counter() - started
            if name == "count+avg":
                assert int(result["n"][0]) == requests * 100, result
        pattern = str(Path(log.storage.root) / folder / "*.parquet")
        started = time.perf_counter()
        duckdb.sql(f"SELECT count(*), avg(latency_ms), avg(\"input.f0\") FROM "
                   f"read_parquet('{pattern}')").fetchall()
        raw = time.perf_counter() - started
    result = {"rows": requests * 100, "files": len(files), "seconds": timings,
              "duckdb_read_parquet_s": raw}
    if not quiet:
        shown = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        print(f"scan of {requests * 100:,} rows in {len(files)} files: {shown} "
              f"(DuckDB read_parquet alone {raw:.2f} s; goal: a few seconds)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the requests, 3 simulated hours, 1M rows scanned")
    parser.add_argument("--hours", type=int, default=None, help="simulated hours of files")
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    hours = args.hours or (3 if args.quick else 24)
    results = {
        "writer": writer_workloads(scale, args.json),
        "files_per_day": files_per_day(hours, args.json),
        "scan": scan(10_000_000 // scale, args.json),
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        day, scanned = results["files_per_day"], results["scan"]
        goal = "met" if day["files_per_day"] < 100 else "MISSED"
        print(f"goal: files per version per day < 100: {day['files_per_day']:.0f} {goal}",
              file=sys.stdout)
        slowest = max(scanned["seconds"].values())
        print(f"goal: scan of {scanned['rows']:,} rows within a few seconds (<= 5 s): "
              f"{slowest:.2f} s {'met' if slowest <= 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
