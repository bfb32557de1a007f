"""What a Gannet model package costs over the bare estimator: load time and predict overhead.

One model: a 100-tree GradientBoostingClassifier on scikit-learn's bundled breast-cancer
data (fixed seed), saved as a package (skops inside). Then, in one process:

1. load: ``load_model(path)`` (manifest, digests of every file, skops type check, load),
   also with ``verify=False``, against ``skops.io.load`` and ``pickle.load`` of the bare
   estimator; median of 5 loads each, every load a fresh call;
2. predict overhead: ``LoadedModel.predict(df)`` vs ``estimator.predict(df)`` on the same
   1,000-row DataFrame (the dataset tiled), median of 200 calls each, interleaved (the order
   flips every call, so drift and caches hit both sides alike); the same for predict_proba;
   and ``Signature.check_input(df)`` alone, the part Gannet adds.

The goal from the issue: under 5% predict overhead on 1,000-row batches.

    .venv/bin/python bench/models.py
    .venv/bin/python bench/models.py --json     # machine-readable results on stdout
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOADS = 5
CALLS = 200
ROWS = 1000
TREES = 100
SEED = 0
GOAL_OVERHEAD_PERCENT = 5.0


def train() -> tuple[Any, Any]:
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = GradientBoostingClassifier(n_estimators=TREES, random_state=SEED).fit(X, y)
    repeats = -(-ROWS // len(X))
    frame = pd.concat([X] * repeats, ignore_index=True).iloc[:ROWS]
    return model, frame


def median_time(fn: Callable[[], Any], times: int) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def interleaved(a: Callable[[], Any], b: Callable[[], Any], times: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` timed alternately, the order flipped on every round."""
    a(), b()  # warm-up
    first: list[float] = []
    second: list[float] = []
    for i in range(times):
        pair = ((a, first), (b, second)) if i % 2 == 0 else ((b, second), (a, first))
        for fn, samples in pair:
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return statistics.median(first), statistics.median(second)


def bench_load(model: Any, frame: Any, folder: Path) -> dict[str, float]:
    import skops.io as sio

    from gannet.models import load_model, save_model

    package = folder / "package"
    save_model(model, package, input_example=frame.head(5))  # so it has a signature
    skops_file, pickle_file = folder / "model.skops", folder / "model.pkl"
    sio.dump(model, skops_file)
    trusted = sio.get_untrusted_types(file=skops_file)
    pickle_file.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))

    def load_pickle() -> Any:
        with open(pickle_file, "rb") as stream:
            return pickle.load(stream)

    return {
        "gannet load_model": median_time(lambda: load_model(package), LOADS),
        "gannet load_model(verify=False)": median_time(
            lambda: load_model(package, verify=False), LOADS),
        "skops.io.load": median_time(lambda: sio.load(skops_file, trusted=trusted), LOADS),
        "pickle.load": median_time(load_pickle, LOADS),
    }


def bench_predict(model: Any, frame: Any, folder: Path) -> dict[str, Any]:
    from gannet.models import load_model

    loaded = load_model(folder / "package")
    results: dict[str, Any] = {}
    for method in ("predict", "predict_proba"):
        ours, theirs = interleaved(
            lambda m=method: getattr(loaded, m)(frame),
            lambda m=method: getattr(model, m)(frame),
            CALLS,
        )
        results[method] = {"gannet": ours, "sklearn": theirs,
                           "overhead_percent": (ours - theirs) / theirs * 100}
    check = loaded.meta.signature.check_input
    results["check_input"] = median_time(lambda: check(frame), CALLS * 10)
    return results


def report(load: dict[str, float], predict: dict[str, Any]) -> bool:
    print(f"model: GradientBoostingClassifier({TREES} trees), breast_cancer, "
          f"{ROWS}-row DataFrame; python {sys.version.split()[0]}")
    print(f"\nload (median of {LOADS})")
    for name, seconds in load.items():
        print(f"  {name:34s} {seconds * 1e3:9.2f} ms")
    print(f"\npredict on {ROWS} rows (median of {CALLS}, interleaved)")
    print(f"  {'call':16s} {'gannet':>10s} {'sklearn':>10s} {'overhead':>10s}")
    ok = True
    for method in ("predict", "predict_proba"):
        row = predict[method]
        ok = ok and row["overhead_percent"] < GOAL_OVERHEAD_PERCENT
        print(f"  {method:16s} {row['gannet'] * 1e3:8.3f}ms {row['sklearn'] * 1e3:8.3f}ms "
              f"{row['overhead_percent']:+9.2f}%")
    print(f"  check_input alone: {predict['check_input'] * 1e6:.1f} us per call")
    verdict = "met" if ok else "MISSED"
    print(f"\ngoal: predict overhead under {GOAL_OVERHEAD_PERCENT:.0f}% -> {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    model, frame = train()
    with tempfile.TemporaryDirectory() as tmp:
        load = bench_load(model, frame, Path(tmp))
        predict = bench_predict(model, frame, Path(tmp))
    if args.json:
        print(json.dumps({"load_seconds": load, "predict": predict}, indent=2))
        return 0
    return 0 if report(load, predict) else 1


if __name__ == "__main__":
    sys.exit(main())
