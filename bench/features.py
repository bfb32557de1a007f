"""Benchmark: the feature store, Gannet against Feast (local provider, file offline store,
SQLite online store).

    python bench/features.py [--entities 10000] [--feature-rows 1000000]
                             [--entity-rows 100000] [--quick] [--json]

One Parquet file of ``--feature-rows`` rows: ten float features of ``--entities``
entities at distinct times (no ties); an entity frame of ``--entity-rows`` rows (a random
entity at a random time, a label). Each tool runs in its own fresh process (so peak
memory is its own): register the definitions; a point-in-time training set (time and
peak RSS over the process's baseline after setup); materialization of everything into
its SQLite online store; online retrieval of the 10 features for 1 and for 100 entities,
sequential, in one process (p50, p99; Gannet's ``output="dict"``, Feast's ``to_dict()``;
Gannet from Redis too when 127.0.0.1:6379 answers). The training sets must hold the same
values (the script exits 1 if not). Ratios are Feast over Gannet (goals: training set
>= 20x faster in < 1/5 of the memory; online no slower for 1 entity, >= 10x for 100).
``--quick`` is 500 entities, 50,000 feature rows, 5,000 entity rows. Then Gannet alone at
``--scale`` (10) times every size: the same steps, its own numbers.

Then Gannet alone: the inference server with feature lookup. A logistic regression on the
ten features (trained on a training set) is deployed with them; ``gannet serve`` (one
worker, the inference log on) answers ``POST /predict`` bodies that carry only an entity
key, each micro-batch's features read from the SQLite online store, under ``wrk`` at
concurrency 32 for ``--serve-seconds`` (goal: above 2,000 requests/s). Without ``wrk`` on
the PATH a Python client measures instead (labelled so: it is the bottleneck, not the
server). ``--serve-only`` runs just this part (no Feast needed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

FEATURES = [f"f{i}" for i in range(10)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TTL_DAYS = 30


def generate(work: Path, entities: int, feature_rows: int, entity_rows: int) -> None:
    """The feature table and the entity frame, vectorised (no Python row loop)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    per_entity = feature_rows // entities
    ids = np.repeat(np.arange(entities, dtype=np.int64), per_entity)
    # entity e's k-th row at T0 + k hours + e seconds: distinct times, no ties
    offsets = (np.tile(np.arange(per_entity), entities) * 3600 + ids).astype("timedelta64[s]")
    frame = pd.DataFrame({"entity_id": ids,
                          "event_timestamp": pd.Timestamp(T0) + pd.to_timedelta(offsets)})
    for name in FEATURES:
        frame[name] = rng.standard_normal(len(ids))
    frame.to_parquet(work / "stats.parquet", index=False)
    # from the time every entity has its first value (an entity row before it is dropped
    # by Feast's file offline store, kept with nulls by Gannet)
    # and never twice the same (entity, time): Feast keeps one row of such a pair; a row's
    # own microseconds make every time distinct
    span = per_entity * 3600 + 86400
    times = (pd.Timestamp(T0)
             + pd.to_timedelta(entities + rng.integers(0, span, entity_rows), unit="s")
             + pd.to_timedelta(np.arange(entity_rows), unit="us"))
    pd.DataFrame({"row_id": np.arange(entity_rows), "entity_id":
                  rng.integers(0, entities, entity_rows), "event_timestamp": times,
                  "label": rng.integers(0, 2, entity_rows)}).to_parquet(
        work / "entities.parquet", index=False)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _percentiles(samples: list[float]) -> dict[str, float]:
    import numpy as np

    ms = np.array(samples) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def _timed(call, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def run_gannet(work: Path, repeat: int) -> dict:
    import pandas as pd

    os.environ["GANNET_HOME"] = str(work / "gannet-home")
    import gannet.features as gf
    from gannet.features import Entity, FeatureView

    entity = Entity("entity", join_keys=["entity_id"])
    view = FeatureView("stats", [entity], str(work / "stats.parquet"), FEATURES,
                       ttl=f"{TTL_DAYS}d")
    gf.apply([entity, view])
    entity_df = pd.read_parquet(work / "entities.parquet")
    refs = [f"stats:{f}" for f in FEATURES]
    baseline = _rss_mib()
    started = time.perf_counter()
    train = gf.training_set(entity_df, refs)
    result = {"train_s": time.perf_counter() - started, "train_peak_mib": _rss_mib() - baseline}
    train.to_parquet(work / "gannet-train.parquet")
    started = time.perf_counter()
    gf.materialize()
    result["materialize_s"] = time.perf_counter() - started
    result.update(_online(lambda rows: gf.online(refs, rows, output="dict"), repeat))
    if _redis_up():
        from gannet.bootstrap import build

        services = build(gf.feature_store().settings.replace(
            features_online_url="redis://127.0.0.1:6379/14"))
        services.features.materialize()
        result["redis"] = _online(lambda rows: services.features.online(
            refs, rows, output="dict"), repeat)
        services.features.online_store.clear()
        services.close()
    return result


def _online(read, repeat: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(1)
    n = int(os.environ["BENCH_ENTITIES"])
    one = [[{"entity_id": int(rng.integers(0, n))}] for _ in range(repeat)]
    hundred = [[{"entity_id": int(i)} for i in rng.integers(0, n, 100)]
               for _ in range(max(repeat // 5, 20))]
    read(one[0])  # warm
    it1, it100 = iter(one), iter(hundred)
    return {"online_1": _timed(lambda: read(next(it1)), len(one)),
            "online_100": _timed(lambda: read(next(it100)), len(hundred))}


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis(socket_connect_timeout=0.5).ping())
    except Exception:
        return False


FEAST_YAML = """project: bench
registry: {work}/feast/registry.db
provider: local
online_store:
  type: sqlite
  path: {work}/feast/online.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""


def run_feast(work: Path, repeat: int) -> dict:
    import pandas as pd
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64, Int64

    repo = work / "feast"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(FEAST_YAML.format(work=work))
    store = FeatureStore(repo_path=str(repo))
    entity = Entity(name="entity", join_keys=["entity_id"])
    source = FileSource(path=str(work / "stats.parquet"), timestamp_field="event_timestamp")
    view = FeatureView(name="stats", entities=[entity], ttl=timedelta(days=TTL_DAYS),
                       schema=[Field(name="entity_id", dtype=Int64),
                               *(Field(name=f, dtype=Float64) for f in FEATURES)],
                       source=source, online=True)
    store.apply([entity, view])
    entity_df = pd.read_parquet(work / "entities.parquet")
    refs = [f"stats:{f}" for f in FEATURES]
    baseline = _rss_mib()
    started = time.perf_counter()
    train = store.get_historical_features(entity_df=entity_df, features=refs).to_df()
    result = {"train_s": time.perf_counter() - started, "train_peak_mib": _rss_mib() - baseline}
    train.to_parquet(work / "feast-train.parquet")
    started = time.perf_counter()
    store.materialize(T0 - timedelta(days=1), datetime.now(UTC))
    result["materialize_s"] = time.perf_counter() - started
    result.update(_online(lambda rows: store.get_online_features(
        features=refs, entity_rows=rows).to_dict(), repeat))
    return result


def same_values(work: Path) -> bool:
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(work / "gannet-train.parquet")
    theirs = pd.read_parquet(work / "feast-train.parquet")
    if len(ours) != len(theirs):
        print(f"Gannet returned {len(ours)} rows, Feast {len(theirs)}", file=sys.stderr)
        return False
    both = ours.merge(theirs, on="row_id", suffixes=("", "_feast"))
    return len(both) == len(ours) and all(
        np.allclose(both[f].to_numpy(float), both[f"{f}_feast"].to_numpy(float), equal_nan=True)
        for f in FEATURES)


def _child(tool: str, work: Path, repeat: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    done = subprocess.run([sys.executable, __file__, "--child", tool, "--work", str(work),
                           "--repeat", str(repeat)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{tool} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--feature-rows", type=int, default=1_000_000)
    parser.add_argument("--entity-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1000, help="online reads of 1 entity")
    parser.add_argument("--scale", type=int, default=10,
                        help="then Gannet alone at this many times the sizes (1: skip)")
    parser.add_argument("--quick", action="store_true", help="a tiny size, to check the script")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--serve-seconds", type=float, default=20.0,
                        help="how long wrk loads the inference server")
    parser.add_argument("--serve-only", action="store_true",
                        help="only the inference server with feature lookup")
    parser.add_argument("--child", choices=["gannet", "feast"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = run_gannet if args.child == "gannet" else run_feast
        print(json.dumps(run(Path(args.work), args.repeat)))
        return
    if args.quick:
        args.entities, args.feature_rows, args.entity_rows, args.repeat = 500, 50_000, 5_000, 200
        args.serve_seconds = min(args.serve_seconds, 3.0)
    os.environ["BENCH_ENTITIES"] = str(args.entities)
    work = Path(tempfile.mkdtemp(prefix="gannet-bench-features-"))
    try:
        generate(work, args.entities, args.feature_rows, args.entity_rows)
        if not args.serve_only:
            ours, theirs = _child("gannet", work, args.repeat), _child("feast", work, args.repeat)
            agree = same_values(work)
            _report(args, ours, theirs, agree)
            if args.scale > 1:
                _alone_at_scale(args, work / f"x{args.scale}")
        from features_serving import serve_with_features

        served = serve_with_features(work, args.entities, args.serve_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"serving": served}) if args.json else served["line"])


def _alone_at_scale(args: argparse.Namespace, work: Path) -> None:
    """Gannet alone on ``--scale`` times the entities, feature rows and entity rows."""
    sizes = [n * args.scale for n in (args.entities, args.feature_rows, args.entity_rows)]
    work.mkdir()
    generate(work, *sizes)
    os.environ["BENCH_ENTITIES"] = str(sizes[0])
    alone = _child("gannet", work, args.repeat)
    os.environ["BENCH_ENTITIES"] = str(args.entities)
    if args.json:
        print(json.dumps({"scale": args.scale, "gannet": alone}))
        return
    print(f"Gannet alone at {args.scale}x: {sizes[0]:,} entities, {sizes[1]:,} feature rows, "
          f"{sizes[2]:,} entity rows: training set {alone['train_s']:.3f} s "
          f"(+{alone['train_peak_mib']:.0f} MiB), materialize {alone['materialize_s']:.3f} s, "
          f"online 1 p50/p99 {alone['online_1']['p50_ms']:.3f}/"
          f"{alone['online_1']['p99_ms']:.3f} ms, 100 p50/p99 "
          f"{alone['online_100']['p50_ms']:.3f}/{alone['online_100']['p99_ms']:.3f} ms")


def _report(args: argparse.Namespace, ours: dict, theirs: dict, agree: bool) -> None:
    from importlib.metadata import version

    def ratio(key: str, sub: str | None = None) -> float:
        a, b = (theirs[key], ours[key]) if sub is None else (theirs[key][sub], ours[key][sub])
        return a / b if b else float("inf")

    ratios = {"train_time": ratio("train_s"), "train_memory": ratio("train_peak_mib"),
              "materialize": ratio("materialize_s"),
              "online_1_p50": ratio("online_1", "p50_ms"),
              "online_1_p99": ratio("online_1", "p99_ms"),
              "online_100_p50": ratio("online_100", "p50_ms"),
              "online_100_p99": ratio("online_100", "p99_ms")}
    if args.json:
        print(json.dumps({"entities": args.entities, "feature_rows": args.feature_rows,
                          "entity_rows": args.entity_rows, "gannet": ours, "feast": theirs,
                          "ratios": ratios, "same_values": agree}))
    else:
        print(f"{args.entities:,} entities, {args.feature_rows:,} feature rows, "
              f"{args.entity_rows:,} entity rows, 10 float features "
              f"(Feast {version('feast')}, {os.cpu_count()} CPUs)")
        print(f"{'':28}{'Gannet':>12}{'Feast':>12}{'Feast/Gannet':>14}")
        rows = [("training set (s)", "train_s", None, "train_time"),
                ("training set peak (MiB)", "train_peak_mib", None, "train_memory"),
                ("materialize (s)", "materialize_s", None, "materialize"),
                ("online 1 entity p50 (ms)", "online_1", "p50_ms", "online_1_p50"),
                ("online 1 entity p99 (ms)", "online_1", "p99_ms", "online_1_p99"),
                ("online 100 p50 (ms)", "online_100", "p50_ms", "online_100_p50"),
                ("online 100 p99 (ms)", "online_100", "p99_ms", "online_100_p99")]
        for label, key, sub, name in rows:
            a = ours[key] if sub is None else ours[key][sub]
            b = theirs[key] if sub is None else theirs[key][sub]
            print(f"{label:<28}{a:>12.3f}{b:>12.3f}{ratios[name]:>13.1f}x")
        if "redis" in ours:
            r = ours["redis"]
            print(f"Gannet from Redis: 1 entity p50 {r['online_1']['p50_ms']:.3f} ms, "
                  f"p99 {r['online_1']['p99_ms']:.3f} ms; 100 entities p50 "
                  f"{r['online_100']['p50_ms']:.3f} ms")
        print(f"training sets hold the same values: {agree}")
    if not agree:
        sys.exit(f"the training sets differ: {json.dumps(ratios)}")


if __name__ == "__main__":
    main()
