"""Benchmark: pipeline orchestration overhead per step, Gannet against Metaflow.

    python bench/pipelines.py [--steps 50] [--quick]

The same trivial steps (each adds one to an integer) as a linear chain of ``--steps``
steps and as a fan-out of ``--steps`` parallel steps gathered by one more, run by each
tool from the command line as a user runs them: ``gannet pipeline run flow.py`` (the
default executor, ``processes``, and ``--executor local``) and ``python flow.py run``
with Metaflow's local runtime (local datastore and metadata); Gannet also in process
(``gannet.run_pipeline``), the steadiest figure. Overhead per step is
``(T(n) - T(2)) / (n - 2)``: the time the tool adds per extra step, without its start-up
(each after a warm-up run, best of two).
Then Gannet's fully cached rerun of the chain (in process, the goal is under 0.5 s for 50
steps) and, when ``distributed`` is installed, the Dask executor's overhead per step
against a ``LocalCluster`` in process. ``--quick`` uses 6 steps (a smoke check only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPEAT = 2  # runs per measurement; the best is kept

GANNET_FLOW = """
import gannet


@gannet.step
def inc(x: int) -> int:
    return x + 1


@gannet.step
def total(values: list) -> int:
    return sum(values)


@gannet.pipeline
def chain(n: int = 50):
    x = 0
    for _ in range(n):
        x = inc(x)


@gannet.pipeline
def fan(n: int = 50):
    total(inc.map(list(range(n))))
"""


def metaflow_chain(n: int) -> str:
    """A Metaflow flow of ``n`` linear steps (start, n - 2 middle steps, end)."""
    steps = ["start", *(f"s{i}" for i in range(1, n - 1)), "end"]
    body = []
    for i, name in enumerate(steps):
        nxt = f"        self.next(self.{steps[i + 1]})\n" if i + 1 < len(steps) else ""
        update = "        self.x = 0\n" if i == 0 else "        self.x = self.x + 1\n"
        body.append(f"    @step\n    def {name}(self):\n{update}{nxt}")
    return ("from metaflow import FlowSpec, step\n\n\nclass Chain(FlowSpec):\n"
            + "\n".join(body) + "\n\nif __name__ == '__main__':\n    Chain()\n")


def metaflow_fan(n: int) -> str:
    """A Metaflow flow fanning out over ``n`` items (n + 3 steps)."""
    return textwrap.dedent(f"""
        from metaflow import FlowSpec, step


        class Fan(FlowSpec):
            @step
            def start(self):
                self.items = list(range({n}))
                self.next(self.work, foreach="items")

            @step
            def work(self):
                self.y = self.input + 1
                self.next(self.join)

            @step
            def join(self, inputs):
                self.total = sum(i.y for i in inputs)
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            Fan()
        """)


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return took


def gannet_times(work: Path, n: int, small: int) -> dict[str, float]:
    flow = work / "flow.py"
    flow.write_text(GANNET_FLOW)
    env = {**os.environ, "GANNET_HOME": str(work / "home")}
    gannet = [sys.executable, "-m", "gannet", "pipeline", "run"]
    found = {}
    for executor in ("processes", "local"):
        for shape in ("chain", "fan"):
            def run(size: int, shape: str = shape, executor: str = executor) -> float:
                return _timed([*gannet, f"{flow}:{shape}", "-p", f"n={size}", "--no-cache",
                               "--executor", executor, "--json"], work, env)

            run(small)  # warm: the home's database, the experiment, the page cache
            times = {size: min(run(size) for _ in range(REPEAT)) for size in (small, n)}
            found[f"gannet {executor} {shape}"] = (times[n] - times[small]) / (n - small)
    return found


def metaflow_times(work: Path, n: int, small: int) -> dict[str, float] | None:
    try:
        import metaflow  # noqa: F401
    except ImportError:
        print("metaflow is not installed (pip install -r bench/requirements.txt): skipped")
        return None
    env = {**os.environ, "USERNAME": "bench", "METAFLOW_DEFAULT_DATASTORE": "local",
           "METAFLOW_DEFAULT_METADATA": "local",
           "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(work / "metaflow")}
    found = {}
    for shape, make in (("chain", metaflow_chain), ("fan", metaflow_fan)):
        times = {}
        for size in (small, small, n):  # the first run warms
            flow = work / f"mf_{shape}_{size}.py"
            flow.write_text(make(size))
            times[size] = min(_timed([sys.executable, str(flow), "--quiet", "run"], work, env)
                              for _ in range(REPEAT))
        found[f"metaflow {shape}"] = (times[n] - times[small]) / (n - small)
    return found


def cached_rerun(work: Path, n: int) -> float:
    """Seconds for a fully cached rerun of the n-step chain, in process."""
    import gannet
    from gannet.pipelines import load_pipeline

    gannet.configure(home=work / "home-cached")
    chain = load_pipeline(f"{work / 'flow.py'}:chain")
    gannet.run_pipeline(chain, executor="local", n=n)
    began = time.perf_counter()
    run = gannet.run_pipeline(chain, executor="local", n=n)
    took = time.perf_counter() - began
    assert all(s.cached for s in run.steps), "the rerun was not fully cached"
    return took


def in_process(work: Path, n: int, small: int) -> dict[str, float]:
    """Overhead per step of ``gannet.run_pipeline`` in one process (no start-up at all)."""
    import gannet
    from gannet.pipelines import load_pipeline

    gannet.configure(home=work / "home-in-process")
    found = {}
    for executor in ("processes", "local"):
        for shape in ("chain", "fan"):
            pipeline = load_pipeline(f"{work / 'flow.py'}:{shape}")
            times = {}
            for size in (small, small, n):  # the first run warms
                began = time.perf_counter()
                gannet.run_pipeline(pipeline, executor=executor, no_cache=True, n=size)
                times[size] = time.perf_counter() - began
            found[f"gannet {executor} {shape} (in process)"] = (times[n] - times[small]) / (
                n - small)
    return found


def dask_overhead(work: Path, n: int, small: int) -> float | None:
    try:
        from distributed import LocalCluster
    except ImportError:
        return None
    import gannet
    from gannet.pipelines import load_pipeline

    chain = load_pipeline(f"{work / 'flow.py'}:chain")
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        times = {}
        for size in (small, small, n):  # the first run warms
            began = time.perf_counter()
            gannet.run_pipeline(chain, executor="dask", address=cluster.scheduler_address,
                                no_cache=True, n=size)
            times[size] = time.perf_counter() - began
    return (times[n] - times[small]) / (n - small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="6 steps: a smoke check")
    args = parser.parse_args()
    n, small = (6, 2) if args.quick else (args.steps, 2)
    work = Path(tempfile.mkdtemp(prefix="gannet-bench-pipelines-"))
    try:
        ours = gannet_times(work, n, small)
        ours.update(in_process(work, n, small))
        theirs = metaflow_times(work, n, small)
        cached = cached_rerun(work, n)
        dask = dask_overhead(work, n, small)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(n, ours, theirs, cached, dask)


def report(n: int, ours: dict[str, float], theirs: dict[str, float] | None, cached: float,
           dask: float | None) -> None:
    print(f"orchestration overhead per step ({n} trivial steps, no cache):")
    for name, seconds in ours.items():
        shape = "fan" if " fan" in name else "chain"
        anchor = (theirs or {}).get(f"metaflow {shape}")
        ratio = f"  Metaflow / Gannet = {anchor / seconds:.1f}x" if anchor and seconds > 0 else ""
        print(f"  {name:<40} {seconds * 1000:8.1f} ms{ratio}")
    for name, seconds in (theirs or {}).items():
        print(f"  {name:<40} {seconds * 1000:8.1f} ms (anchor)")
    if dask is not None:
        print(f"  {'gannet dask chain (LocalCluster)':<40} {dask * 1000:8.1f} ms")
    goal = "meets" if cached < 0.5 else "misses"
    print(f"fully cached rerun of {n} steps: {cached:.3f} s ({goal} the 0.5 s goal)")
    print(json.dumps({"steps": n, "gannet_s_per_step": ours, "metaflow_s_per_step": theirs,
                      "cached_rerun_s": cached, "dask_s_per_step": dask}))


if __name__ == "__main__":
    main()
