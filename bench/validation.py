"""Benchmark: a 10-check validation suite over a Parquet file, Gannet against Great Expectations.

    python bench/validation.py [--rows 10000000] [--repeat 2] [--quick] [--json]

One Parquet file of ``--rows`` generated rows (ids, ages with a few nulls, scores with
outliers, plans, cities, e-mail addresses, sign-up times) and one suite of 10 common
expectations, written once as a Great Expectations suite (JSON): Great Expectations
(pandas, its default engine; the time includes ``pandas.read_parquet``, which it needs)
runs it as written, Gannet reads the same JSON (its Great Expectations import) and runs it
over the file with DuckDB (``gannet.data.validate``). Both start from the file on disk.
The verdicts of the 10 checks must agree (the script exits 1 if they do not); the ratio is
Great Expectations' time over Gannet's (goal: at least 10). ``--quick`` is 100,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

CITIES = ["Lyon", "Oslo", "Porto", "Turin", "Gdansk"]
PLANS = ["free", "pro", "team"]
CHUNK = 1_000_000


def suite(rows: int) -> list[dict]:
    """10 expectations: 7 hold on the generated data, 3 do not."""
    column = "expect_column_values_to_"
    return [
        {"type": f"{column}not_be_null", "kwargs": {"column": "id"}},
        {"type": f"{column}not_be_null", "kwargs": {"column": "age"}},  # fails: a few nulls
        {"type": f"{column}be_between", "kwargs": {"column": "age", "min_value": 0,
                                                   "max_value": 120}},
        {"type": f"{column}be_between", "kwargs": {"column": "score", "min_value": -4,
                                                   "max_value": 4}},  # fails: outliers
        {"type": f"{column}be_unique", "kwargs": {"column": "id"}},
        {"type": f"{column}be_in_set", "kwargs": {"column": "city", "value_set": CITIES}},
        {"type": f"{column}be_in_set", "kwargs": {"column": "plan",
                                                  "value_set": ["free", "pro"]}},  # fails
        {"type": f"{column}match_regex", "kwargs": {"column": "email",
                                                    "regex": r"^user[0-9]+@example\.com$"}},
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 1, "max_value": rows * 2}},
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": ["id", "age", "score", "city", "plan", "email", "signed_up"],
                    "exact_match": True}},
    ]


def generate(path: Path, rows: int) -> None:
    """``rows`` rows written in row groups of ``CHUNK`` (vectorised; no Python row loop)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(42)
    writer = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        ids = pa.array(np.arange(start, start + n, dtype=np.int64))
        age = rng.integers(0, 100, n).astype(np.float64)
        mask = rng.random(n) < 0.001
        table = pa.table({
            "id": ids,
            "age": pa.array(age, mask=mask),
            "score": pa.array(rng.standard_normal(n) * 1.2),
            "city": pa.array(np.array(CITIES)[rng.integers(0, len(CITIES), n)]),
            "plan": pa.array(np.array(PLANS)[rng.integers(0, len(PLANS), n)]),
            "email": pc.binary_join_element_wise("user", pc.cast(ids, pa.string()),
                                                 "@example.com", ""),
            "signed_up": pa.array(np.datetime64("2024-01-01") + np.arange(start, start + n)
                                  .astype("timedelta64[s]")),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def run_gannet(path: Path, suite_file: Path) -> tuple[float, list[bool]]:
    import duckdb  # noqa: F401  (imports are outside the timing, as for Great Expectations)
    import pyarrow.parquet  # noqa: F401

    import gannet.data
    import gannet.data.validation.engine

    started = time.perf_counter()
    report = gannet.data.validate(path, suite_file)
    return time.perf_counter() - started, [c.passed for c in report.checks]


def run_great_expectations(path: Path, expectations: list[dict]) -> tuple[float, list[bool]]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("bench").add_dataframe_asset("table")
             .add_batch_definition_whole_dataframe("whole"))
    ge_suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    ids = []
    for item in expectations:
        name = "".join(part.title() for part in item["type"].split("_"))
        ids.append(ge_suite.add_expectation(getattr(gx.expectations, name)(**item["kwargs"])).id)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="bench", data=batch, suite=ge_suite))
    started = time.perf_counter()
    frame = pd.read_parquet(path)
    result = definition.run(batch_parameters={"dataframe": frame})
    elapsed = time.perf_counter() - started
    by_id = {r.expectation_config.id: bool(r.success) for r in result.results}
    return elapsed, [by_id[i] for i in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each (best kept)")
    parser.add_argument("--dir", default=None, help="where to write the Parquet file")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    rows, repeat = (100_000, 2) if args.quick else (args.rows, args.repeat)
    work = Path(tempfile.mkdtemp(prefix="gannet-bench-validation-", dir=args.dir))
    try:
        path, suite_file = work / "table.parquet", work / "ge_suite.json"
        started = time.perf_counter()
        generate(path, rows)
        made = time.perf_counter() - started
        expectations = suite(rows)
        suite_file.write_text(json.dumps({"expectation_suite_name": "bench",
                                          "expectations": expectations}))
        ours = [run_gannet(path, suite_file) for _ in range(repeat)]
        theirs = [run_great_expectations(path, expectations) for _ in range(repeat)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _report(rows, made, expectations, min(ours), min(theirs), args.json)


def _report(rows: int, made: float, expectations: list[dict], ours: tuple, theirs: tuple,
            as_json: bool) -> None:
    import great_expectations as gx

    agree = ours[1] == theirs[1]
    ratio = theirs[0] / ours[0] if ours[0] else float("inf")
    if as_json:
        print(json.dumps({"rows": rows, "gannet_s": ours[0], "great_expectations_s": theirs[0],
                          "ratio": ratio, "verdicts_agree": agree,
                          "gannet": ours[1], "great_expectations": theirs[1]}))
    else:
        print(f"{rows:,} rows, 10 checks (Parquet written in {made:.1f} s; "
              f"Great Expectations {gx.__version__}, {os.cpu_count()} CPUs)")
        print(f"{'expectation':<58} {'gannet':>7} {'GX':>7}")
        for item, mine, yours in zip(expectations, ours[1], theirs[1], strict=True):
            column = item["kwargs"].get("column", "")
            print(f"{item['type'] + (f'({column})' if column else ''):<58} "
                  f"{_verdict(mine):>7} {_verdict(yours):>7}")
        print(f"Gannet               {ours[0]:8.3f} s")
        print(f"Great Expectations   {theirs[0]:8.3f} s")
        print(f"ratio (GX / Gannet)  {ratio:8.1f}x   verdicts agree: {agree}")
    if not agree:
        sys.exit(1)


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


if __name__ == "__main__":
    main()
