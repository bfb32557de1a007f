"""The team server against MLflow's tracking server, same client, same work, one run.

Three servers, each over SQLite and a local artifact folder in a fresh temporary folder:
``mlflow server`` with its default 4 workers, ``mlflow server --workers 1``, and
``gannet server`` as a user starts it (auth on: the MLflow client sends a Gannet API
token). Against each, the real ``mlflow`` client (``MlflowClient``) runs:

1. per-call ``log_metric``: one request per point, for a few seconds;
2. ``log_batch``: 1,000 metrics per call;
3. ``search_runs`` over 10,000 runs (10 params, 5 metrics, a tag each), with a metric
   filter and ordering, 1,000 results (``MlflowClient``'s default page), median of 5;
4. artifacts: ``log_artifacts`` of 1,000 small files; ``log_artifact`` of one 1 GiB file
   (256 MiB with ``--quick``);
5. the same client against a server that answers everything at once with fixed bytes
   (``canned_server.py``): the client's own cost, so the most any server could reach.

All servers run at once. Search and artifacts are measured once per server; per-call and
log_batch in ``--rounds`` rounds (3) over all servers, the order turned by one each round,
each server's figure its median round: the machine's slow spells then fall on every
server in turn (one-shot runs of the same code gave per-call ratios of 8.0x and 3.9x).

Then Gannet's own remote SDK (``GannetClient(uri=..., token=...)``) does the same work
against the same Gannet server: its ``log_metric`` returns at once and a background
thread sends the points in batches, so per-call is counted until ``flush()`` returns.

The 10,000 runs are written before the timed part: into MLflow's SQLite by the rows
MLflow's own store writes (``bench/tracking.py``), into Gannet's by its embedded SDK.

    bench/.venv/bin/python bench/server.py           # everything (about 7 minutes)
    bench/.venv/bin/python bench/server.py --quick   # a smaller big file, 2 short rounds
    bench/.venv/bin/python bench/server.py --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tracking

SEARCH_RUNS = 10_000
SEARCH_FILTER = "metrics.m0 > 0.5"
SEARCH_ORDER = ["metrics.m0 DESC"]
SEARCH_PAGE = 1000
SMALL_FILES = 1000
BATCHES = 30  # enough that the first call's warm-up does not decide the rate
# with the same mlflow client: Gannet / MLflow's default server (4 workers)
GOALS = {"per_call": 10.0, "batch": 5.0, "search": 50.0, "small_files": 5.0,
         "sdk_per_call": 1000.0}
BIN = Path(sys.executable).parent


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before answering {url}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def mlflow_server(root: Path, workers: int) -> Iterator[dict[str, Any]]:
    port = free_port()
    command = [str(BIN / "mlflow"), "server", "--backend-store-uri",
               f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination",
               str(root / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port)]
    if workers != 4:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, cwd=root, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc)
        yield {"uri": f"http://127.0.0.1:{port}", "env": {}, "db": root / "mlflow.db"}
    finally:
        stop(proc)


def gannet_cli(home: Path, *args: str) -> str:
    env = {**os.environ, "GANNET_HOME": str(home), "GANNET_PROGRESS": "false"}
    env.pop("GANNET_URI", None)
    done = subprocess.run([str(BIN / "gannet"), *args], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


@contextlib.contextmanager
def gannet_server(home: Path) -> Iterator[dict[str, Any]]:
    """``gannet server`` with auth on, and a token for the benchmark's user."""
    gannet_cli(home, "users", "create", "bench", "--admin")
    token = json.loads(gannet_cli(home, "tokens", "create", "bench", "--user", "bench",
                                  "--json"))["secret"]
    port = free_port()
    env = {**os.environ, "GANNET_HOME": str(home), "GANNET_PROGRESS": "false"}
    proc = subprocess.Popen([str(BIN / "gannet"), "server", "--port", str(port)], env=env,
                            cwd=home, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/ready", proc)
        yield {"uri": f"http://127.0.0.1:{port}", "token": token,
               "env": {"MLFLOW_TRACKING_TOKEN": token}}
    finally:
        stop(proc)


@contextlib.contextmanager
def canned_server(search_answer: Path) -> Iterator[dict[str, Any]]:
    """``bench/canned_server.py``: every call answered at once (the client's floor)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "canned_server.py"),
                             str(port), str(search_answer)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", proc)
        yield {"uri": f"http://127.0.0.1:{port}", "env": {}}
    finally:
        stop(proc)


def search_answer(server: dict[str, Any], experiment_id: str, dest: Path) -> Path:
    """The bytes ``server`` answers the benchmark's search with (for the canned server)."""
    body = json.dumps({"experiment_ids": [experiment_id], "filter": SEARCH_FILTER,
                       "order_by": SEARCH_ORDER, "max_results": SEARCH_PAGE}).encode()
    request = urllib.request.Request(
        server["uri"] + "/api/2.0/mlflow/runs/search", data=body, method="POST",
        headers={"content-type": "application/json",
                 "authorization": f"Bearer {server['token']}"})
    with urllib.request.urlopen(request) as answer:
        dest.write_bytes(answer.read())
    return dest


# -- the work, through the mlflow client ----------------------------------------------------


def mlflow_client(server: dict[str, Any]) -> Any:
    os.environ.update(server["env"])
    import mlflow

    return mlflow.MlflowClient(tracking_uri=server["uri"])


def timed_rate(work: Callable[[int], None], seconds: float, most: int) -> dict[str, Any]:
    """Calls ``work(i)`` until ``seconds`` pass (or ``most`` calls); calls per second."""
    start = time.perf_counter()
    count = 0
    while count < most and time.perf_counter() - start < seconds:
        work(count)
        count += 1
    elapsed = time.perf_counter() - start
    return {"calls": count, "seconds": elapsed, "rate": count / elapsed}


def per_call(client: Any, experiment_id: str, seconds: float) -> dict[str, Any]:
    run_id = client.create_run(experiment_id).info.run_id
    values = tracking.values_for(1, 100_000)
    result = timed_rate(lambda i: client.log_metric(run_id, "loss", values[i], step=i),
                        seconds, len(values))
    client.set_terminated(run_id)
    return result


def batch(client: Any, experiment_id: str) -> dict[str, Any]:
    from mlflow.entities import Metric

    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    start = time.perf_counter()
    for b in range(BATCHES):
        metrics = [Metric(f"m{k % 5}", v, now, b * 200 + k // 5)
                   for k, v in enumerate(tracking.values_for(b, 1000))]
        client.log_batch(run_id, metrics=metrics)
    elapsed = time.perf_counter() - start
    client.set_terminated(run_id)
    return {"points": BATCHES * 1000, "seconds": elapsed, "rate": BATCHES * 1000 / elapsed}


def search(client: Any, experiment_id: str) -> dict[str, Any]:
    def once() -> Any:
        return client.search_runs([experiment_id], SEARCH_FILTER, order_by=SEARCH_ORDER,
                                  max_results=SEARCH_PAGE)

    once()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        found = once()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "runs": len(found),
            "first": found[0].info.run_name if found else None}


def artifacts(client: Any, experiment_id: str, small: Path, big: Path) -> dict[str, Any]:
    run_id = client.create_run(experiment_id).info.run_id
    start = time.perf_counter()
    client.log_artifacts(run_id, str(small), "small")
    small_s = time.perf_counter() - start
    start = time.perf_counter()
    client.log_artifact(run_id, str(big), "big")
    big_s = time.perf_counter() - start
    client.set_terminated(run_id)
    size = big.stat().st_size
    return {"small_files_per_s": SMALL_FILES / small_s, "small_s": small_s,
            "big_mb_per_s": size / 2**20 / big_s, "big_s": big_s, "big_bytes": size}


def once_through(server: dict[str, Any], files: tuple[Path, Path], experiment_id: str,
                 report: tracking.Reporter, label: str) -> dict[str, Any]:
    """The parts measured once per server: search (itself a median) and artifacts."""
    client = mlflow_client(server)
    scratch = client.create_experiment(f"bench-{time.time_ns()}")
    report.say(f"{label}: search_runs over {SEARCH_RUNS:,} runs")
    result: dict[str, Any] = {"search": search(client, experiment_id)}
    report.say(f"{label}: artifacts")
    result["artifacts"] = artifacts(client, scratch, *files)
    return result


def rounds_through(servers: dict[str, dict[str, Any]], args: argparse.Namespace,
                   report: tracking.Reporter) -> dict[str, dict[str, Any]]:
    """Per-call and log_batch in ``args.rounds`` rounds over all servers, the order turned
    by one each round, so that a slow spell of the machine falls on every server in turn;
    each server's figure is its median round (one run's ratio moved 2x between runs)."""
    clients = {key: mlflow_client(server) for key, server in servers.items()}
    scratch = {key: client.create_experiment(f"rounds-{time.time_ns()}")
               for key, client in clients.items()}
    keys = list(servers)
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        key: {"per_call": [], "batch": []} for key in keys}
    for n in range(args.rounds):
        for key in keys[n % len(keys):] + keys[: n % len(keys)]:
            report.say(f"round {n + 1}/{args.rounds}: {key}: per-call log_metric, log_batch")
            samples[key]["per_call"].append(per_call(clients[key], scratch[key], args.seconds))
            samples[key]["batch"].append(batch(clients[key], scratch[key]))
    return {key: {part: _median_round(found) for part, found in parts.items()}
            for key, parts in samples.items()}


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(rounds, key=lambda r: r["rate"])
    return {**ordered[len(ordered) // 2], "rounds": [r["rate"] for r in rounds]}


# -- the same work through Gannet's remote SDK ----------------------------------------------


def through_gannet_sdk(server: dict[str, Any], args: argparse.Namespace,
                       files: tuple[Path, Path], experiment_id: str) -> dict[str, Any]:
    from gannet import GannetClient
    from gannet.tracking.types import Metric

    client = GannetClient(uri=server["uri"], token=server["token"], progress=False,
                          capture_environment=False)
    scratch = client.create_experiment(f"sdk-{time.time_ns()}")
    run_id = client.create_run(scratch).info.run_id
    points = 200_000 if not args.quick else 50_000
    values = tracking.values_for(2, points)
    start = time.perf_counter()
    for i, value in enumerate(values):
        client.log_metric(run_id, "loss", value, step=i)
    client.flush()
    elapsed = time.perf_counter() - start
    stored = len(client.get_metric_history(run_id, "loss"))
    result: dict[str, Any] = {"per_call": {"calls": points, "seconds": elapsed,
                                           "rate": points / elapsed, "stored": stored}}
    now = int(time.time() * 1000)
    start = time.perf_counter()
    for b in range(BATCHES):
        client.log_batch(run_id, metrics=[Metric(f"m{k % 5}", v, now, b * 200 + k // 5)
                                          for k, v in enumerate(tracking.values_for(b, 1000))])
    elapsed = time.perf_counter() - start
    result["batch"] = {"points": BATCHES * 1000, "seconds": elapsed,
                       "rate": BATCHES * 1000 / elapsed}
    times = []
    for _ in range(6):
        begin = time.perf_counter()
        found = client.search_runs([experiment_id], SEARCH_FILTER, order_by=SEARCH_ORDER,
                                   max_results=SEARCH_PAGE)
        times.append(time.perf_counter() - begin)
    result["search"] = {"median_s": statistics.median(times[1:]), "runs": len(found)}
    small, big = files
    start = time.perf_counter()
    client.log_artifacts(run_id, small, "small")
    small_s = time.perf_counter() - start
    start = time.perf_counter()
    client.log_artifact(run_id, big, "big")
    big_s = time.perf_counter() - start
    result["artifacts"] = {"small_files_per_s": SMALL_FILES / small_s, "small_s": small_s,
                           "big_mb_per_s": big.stat().st_size / 2**20 / big_s, "big_s": big_s}
    client.set_terminated(run_id)
    client.close()
    return result


# -- populating the 10,000 runs -------------------------------------------------------------


def populate_mlflow(server: dict[str, Any], rows: list[dict[str, Any]],
                    report: tracking.Reporter) -> str:
    client = mlflow_client(server)
    artifacts = (Path(server["db"]).parent / "mlartifacts").as_uri()
    experiment_id = client.create_experiment("search", artifact_location=artifacts)
    with report.progress(f"MLflow: writing {len(rows):,} runs", len(rows)) as advance:
        tracking._mlflow_insert(server["db"], experiment_id, artifacts, rows, advance)
    return str(experiment_id)


def populate_gannet(home: Path, rows: list[dict[str, Any]], report: tracking.Reporter) -> str:
    from gannet import GannetClient
    from gannet.tracking.types import Metric

    client = GannetClient(home=home, progress=False, capture_environment=False)
    experiment_id = client.create_experiment("search")
    with report.progress(f"Gannet: writing {len(rows):,} runs", len(rows)) as advance:
        for row in rows:
            run_id = client.create_run(experiment_id, run_name=row["name"],
                                       tags=dict([row["tag"]]),
                                       start_time=row["time"]).info.run_id
            client.log_batch(run_id, params=row["params"], metrics=[
                Metric(k, v, row["time"], 0) for k, v in row["metrics"].items()])
            advance()
    client.close()
    return experiment_id


def make_files(root: Path, big_bytes: int) -> tuple[Path, Path]:
    small = root / "small"
    small.mkdir()
    for i in range(SMALL_FILES):
        (small / f"file-{i:04d}.json").write_text(json.dumps({"i": i, "pad": "x" * 200}))
    big = root / "big.bin"
    with big.open("wb") as out:
        chunk = os.urandom(2**20)
        for i in range(big_bytes // 2**20):
            out.write(chunk[i % 256:] + chunk[: i % 256])
    return small, big


# -- report ----------------------------------------------------------------------------------


def show(results: dict[str, Any], report: tracking.Reporter) -> list[str]:
    sides = [("MLflow server, 4 workers (default)", results["mlflow-4w"]),
             ("MLflow server, 1 worker", results["mlflow-1w"]),
             ("Gannet server, mlflow client", results["gannet"]),
             ("Gannet server, Gannet SDK", results["gannet-sdk"]),
             ("no server (canned answers): the mlflow client's floor", results["floor"])]
    rows = [[name, tracking.fmt_rate(r["per_call"]["rate"]), tracking.fmt_rate(r["batch"]["rate"]),
             f"{r['search']['median_s'] * 1000:,.1f}",
             tracking.fmt_rate(r["artifacts"]["small_files_per_s"]),
             f"{r['artifacts']['big_mb_per_s']:,.0f}"] for name, r in sides]
    report.table("Tracking server (same machine, SQLite, local artifacts)",
                 ["server / client", "per-call pts/s", "log_batch pts/s",
                  f"search {SEARCH_PAGE} of {SEARCH_RUNS:,} (ms)", "small files/s",
                  "1 file MB/s"], rows)
    base, gannet, sdk = results["mlflow-4w"], results["gannet"], results["gannet-sdk"]
    ratios = {
        "per_call": gannet["per_call"]["rate"] / base["per_call"]["rate"],
        "batch": gannet["batch"]["rate"] / base["batch"]["rate"],
        "search": base["search"]["median_s"] / gannet["search"]["median_s"],
        "small_files": (gannet["artifacts"]["small_files_per_s"]
                        / base["artifacts"]["small_files_per_s"]),
        "sdk_per_call": sdk["per_call"]["rate"] / base["per_call"]["rate"],
    }
    floor = results["floor"]
    reachable = {  # the most any server could give this client, against MLflow's
        "per_call": floor["per_call"]["rate"] / base["per_call"]["rate"],
        "batch": floor["batch"]["rate"] / base["batch"]["rate"],
        "search": base["search"]["median_s"] / floor["search"]["median_s"],
        "small_files": (floor["artifacts"]["small_files_per_s"]
                        / base["artifacts"]["small_files_per_s"]),
    }
    results["ratios"], results["reachable"] = ratios, reachable
    lines = [f"{name}: Gannet/MLflow(4 workers) = {tracking.fmt_ratio(ratio)} "
             f"{tracking.verdict(ratio, GOALS[name])}"
             + (f"; the client's floor allows at most {tracking.fmt_ratio(reachable[name])}"
                if name in reachable else "")
             for name, ratio in ratios.items()]
    for line in lines:
        report.note(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=5.0, help="per-call, per round")
    parser.add_argument("--rounds", type=int, default=3, help="per-call and log_batch rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = min(args.seconds, 2.0), min(args.rounds, 2)
    tracking.quiet_mlflow()
    report = tracking.Reporter(args.json)
    results: dict[str, Any] = {"machine": tracking.machine()}
    rows = tracking.search_rows(SEARCH_RUNS)
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tracking.fresh_dir("server-files"))
        files = make_files(scratch, (256 if args.quick else 1024) * 2**20)
        servers: dict[str, dict[str, Any]] = {}
        for key, workers in (("mlflow-4w", 4), ("mlflow-1w", 1)):
            root = stack.enter_context(tracking.fresh_dir(key))
            servers[key] = stack.enter_context(mlflow_server(root, workers))
            experiment_id = populate_mlflow(servers[key], rows, report)
            results[key] = once_through(servers[key], files, experiment_id, report, key)
        home = stack.enter_context(tracking.fresh_dir("gannet"))
        experiment_id = populate_gannet(home, rows, report)
        gannet = servers["gannet"] = stack.enter_context(gannet_server(home))
        os.environ["MLFLOW_TRACKING_TOKEN"] = gannet["token"]  # the others ignore it
        results["gannet"] = once_through(gannet, files, experiment_id, report, "gannet")
        answer = search_answer(gannet, experiment_id, scratch / "search.json")
        servers["floor"] = stack.enter_context(canned_server(answer))
        tiny = scratch / "tiny.bin"
        tiny.write_bytes(os.urandom(2**20))
        results["floor"] = once_through(servers["floor"], (files[0], tiny), "0", report,
                                        "floor")
        for key, parts in rounds_through(servers, args, report).items():
            results[key].update(parts)
        report.say("gannet-sdk: the same work through Gannet's remote SDK")
        results["gannet-sdk"] = through_gannet_sdk(gannet, args, files, experiment_id)
    show(results, report)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
