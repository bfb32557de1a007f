"""Monitoring: drift with Gannet against Evidently, and a monitor run over a big log.

1. **Drift**: 100,000 reference x 100,000 current rows x 50 columns (40 numeric, 10
   categorical; 10 shifted: 4 numeric means by 0.5 sd, 3 numeric spreads by 1.5x, 3
   categorical mixes), generated with a fixed seed. ``gannet.monitor.drift`` (defaults)
   and Evidently's ``DataDriftPreset`` (pinned in bench/requirements.txt; its defaults)
   each run in a fresh interpreter on the same data: wall time of the call (Gannet: the
   median of 3), peak resident memory above what the process held before the call (data
   and imports), and the columns each flags. Both must flag the same 10 columns. Goal:
   Gannet at least 20x faster, in under a third of Evidently's memory.
2. **Monitor run**: a deployment's inference log of 10,000,000 rows over one day (10
   features, a prediction; Parquet files in the log's own layout, one per hour, written
   with pyarrow), a monitor with hourly windows against a 100,000-row reference, its
   defaults (each window tested on a 100,000-row sample, counted exactly): the first run
   reads every row and reports 24 windows; timed in a fresh process (imports included,
   as ``gannet monitor run`` pays them) and again in a warm one. Goal: under 5 s.

    bench/.venv/bin/python bench/monitoring.py
    bench/.venv/bin/python bench/monitoring.py --quick --json
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NUMERIC, CATEGORICAL = 40, 10
SHIFTED = [*(f"n{i}" for i in range(7)), *(f"c{i}" for i in range(3))]
HOUR_MS = 3_600_000
DAY0 = 1_717_200_000_000  # 2024-06-01T00:00:00Z


def frames(rows: int, seed: int = 0) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    levels = np.array(["a", "b", "c", "d", "e", "f"])
    base_p = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    moved_p = np.array([0.1, 0.15, 0.2, 0.15, 0.2, 0.2])
    ref: dict[str, Any] = {}
    cur: dict[str, Any] = {}
    for i in range(NUMERIC):
        ref[f"n{i}"] = rng.normal(0, 1, rows)
        mean, sd = (0.5, 1.0) if i < 4 else (0.0, 1.5) if i < 7 else (0.0, 1.0)
        cur[f"n{i}"] = rng.normal(mean, sd, rows)
    for i in range(CATEGORICAL):
        ref[f"c{i}"] = levels[rng.choice(6, rows, p=base_p)]
        cur[f"c{i}"] = levels[rng.choice(6, rows, p=moved_p if i < 3 else base_p)]
    return pd.DataFrame(ref), pd.DataFrame(cur)


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_gannet(ref: Any, cur: Any) -> tuple[list[str], float]:
    import gannet

    times, drifted = [], []
    for _ in range(3):
        started = time.perf_counter()
        drifted = gannet.monitor.drift(ref, cur).drifted_columns
        times.append(time.perf_counter() - started)
    return sorted(drifted), statistics.median(times)


def run_evidently(ref: Any, cur: Any) -> tuple[list[str], float]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    result = snapshot.dict()
    seconds = time.perf_counter() - started
    return sorted(_evidently_drifted(result, list(ref.columns))), seconds


def _evidently_drifted(result: dict[str, Any], columns: list[str]) -> list[str]:
    """Columns whose ValueDrift score crosses its method's threshold, as Evidently judges:
    p-value methods drift below it, distances at or above it."""
    drifted = []
    for metric in result["metrics"]:
        config = metric.get("config", {})
        if "ValueDrift" not in str(config.get("type")) or config.get("column") not in columns:
            continue
        method, score = str(config.get("method")), float(metric["value"])
        threshold = float(config["threshold"])
        if (score < threshold) if "p_value" in method else (score >= threshold):
            drifted.append(config["column"])
    return drifted


def worker(tool: str, rows: int) -> dict[str, Any]:
    ref, cur = frames(rows)
    if tool == "gannet":
        import scipy.stats  # noqa: F401

        import gannet.client.monitor  # noqa: F401  (imports before the baseline)
    else:
        import evidently  # noqa: F401
    before = _rss_mib()
    drifted, seconds = (run_gannet if tool == "gannet" else run_evidently)(ref, cur)
    return {"tool": tool, "seconds": seconds, "peak_mib": _peak_mib() - before,
            "drifted": drifted}


def drift_bench(rows: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for tool in ("gannet", "evidently"):
        done = subprocess.run([sys.executable, __file__, "--worker", tool, "--rows", str(rows)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            found[tool] = {"error": done.stderr.strip().splitlines()[-1:]}
            continue
        found[tool] = json.loads(done.stdout.strip().splitlines()[-1])
    g, e = found["gannet"], found.get("evidently", {})
    if "seconds" in g and "seconds" in e:
        found["speedup"] = e["seconds"] / g["seconds"]
        found["memory_ratio"] = e["peak_mib"] / max(g["peak_mib"], 0.1)
        found["same_verdicts"] = g["drifted"] == e["drifted"]
    found["expected"] = sorted(SHIFTED)
    return found


def write_log(root: Path, rows: int, features: int = 10) -> None:
    """``rows`` rows over one day in the inference log's layout, one file per hour."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    folder = root / "deployment=bench" / "version=1" / "date=2024-06-01"
    folder.mkdir(parents=True)
    per_hour = rows // 24
    for hour in range(24):
        start = DAY0 + hour * HOUR_MS
        ts = start + np.sort(rng.integers(0, HOUR_MS, per_hour))
        columns = {
            "request_id": pa.array(np.char.add("r", np.arange(per_hour).astype(str))),
            "row": pa.array(np.zeros(per_hour, dtype=np.int32)),
            "timestamp": pa.array(ts, pa.timestamp("ms", tz="UTC")),
            "model": pa.array(["bench"] * per_hour), "latency_ms": np.ones(per_hour),
            "shadow": pa.array(np.zeros(per_hour, dtype=bool)),
        }
        for i in range(features - 2):
            columns[f"input.f{i}"] = rng.normal(0.05 * hour if i == 0 else 0, 1, per_hour)
        for i in range(2):
            columns[f"input.g{i}"] = pa.array(np.array(["x", "y", "z"])[
                rng.integers(0, 3, per_hour)]).dictionary_encode().cast(pa.string())
        columns["prediction"] = rng.integers(0, 2, per_hour)
        pq.write_table(pa.table(columns), folder / f"hour-{hour:02d}.parquet")


def monitor_bench(rows: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from gannet.bootstrap import build
    from gannet.core.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        write_log(home / "log", rows)
        settings = Settings.load(environ={}, cwd=home, home=home / ".gannet", progress=False,
                                 inference_log_url=str(home / "log"))
        services = build(settings)
        rng = np.random.default_rng(2)
        reference = pd.DataFrame({**{f"f{i}": rng.normal(0, 1, 100_000) for i in range(8)},
                                  **{f"g{i}": rng.choice(["x", "y", "z"], 100_000)
                                     for i in range(2)},
                                  "prediction": rng.integers(0, 2, 100_000)})
        services.monitoring.create_monitor("bench", reference, window="hour")
        services.monitoring.create_monitor("bench", reference, name="again", window="hour")
        started = time.perf_counter()
        summary = services.monitoring.run_monitor("bench", now=DAY0 + 25 * HOUR_MS)
        seconds = time.perf_counter() - started
        started = time.perf_counter()  # the same in a process that ran a monitor already
        services.monitoring.run_monitor("again", now=DAY0 + 25 * HOUR_MS)
        warm = time.perf_counter() - started
        drifted_hours = sum(1 for r in summary.reports if "f0" in
                            r.body["drift"]["drifted_columns"])
        services.close()
    return {"rows": summary.rows_read, "windows": len(summary.reports), "seconds": seconds,
            "warm_seconds": warm, "rows_per_second": summary.rows_read / warm,
            "hours_f0_drifted": drifted_hours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--log-rows", type=int, default=None)
    parser.add_argument("--worker", choices=["gannet", "evidently"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows = args.rows or (5_000 if args.quick else 100_000)
    if args.worker:
        print(json.dumps(worker(args.worker, rows)))
        return
    log_rows = args.log_rows or (240_000 if args.quick else 10_000_000)
    results = {"drift": drift_bench(rows), "monitor": monitor_bench(log_rows),
               "rows": rows, "log_rows": log_rows}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    report(results)


def report(results: dict[str, Any]) -> None:
    drift = results["drift"]
    print(f"drift: {results['rows']:,} x {results['rows']:,} rows x 50 columns "
          f"(10 shifted: {', '.join(drift['expected'])})")
    for tool in ("gannet", "evidently"):
        found = drift.get(tool, {})
        if "error" in found:
            print(f"  {tool:10s} failed: {found['error']}")
            continue
        print(f"  {tool:10s} {found['seconds']:8.3f} s  peak +{found['peak_mib']:7.1f} MiB  "
              f"flags {', '.join(found['drifted'])}")
    if "speedup" in drift:
        print(f"  Gannet is {drift['speedup']:.1f}x faster (goal 20x), uses "
              f"1/{drift['memory_ratio']:.1f} of Evidently's memory (goal 1/3); same verdicts: "
              f"{drift['same_verdicts']}")
    mon = results["monitor"]
    print(f"monitor run: {mon['rows']:,} logged rows, {mon['windows']} hourly windows in "
          f"{mon['seconds']:.2f} s as `gannet monitor run` does it (imports included), "
          f"{mon['warm_seconds']:.2f} s in a process that ran one before "
          f"({mon['rows_per_second']:,.0f} rows/s); goal < 5 s for 10M; f0 drifting in "
          f"{mon['hours_f0_drifted']} of 24 hours")


if __name__ == "__main__":
    main()
