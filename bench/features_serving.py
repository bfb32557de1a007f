"""The inference server with feature lookup, for ``bench/features.py``: a model on the ten
features of ``stats.parquet``, deployed with them, served by ``gannet serve`` and loaded
by ``wrk`` (concurrency 32) with bodies that carry only an entity key."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CONCURRENCY = 32
GOAL_RPS = 2000.0
FEATURES = [f"f{i}" for i in range(10)]
REFS = [f"stats:{f}" for f in FEATURES]


def _prepare(work: Path) -> dict[str, str]:
    """A fresh home: the view applied and materialized, the model registered and deployed
    with the features. The environment ``gannet serve`` needs."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from gannet.bootstrap import build
    from gannet.core.settings import Settings
    from gannet.features import Entity, FeatureView

    home = work / "serve-home"
    settings = Settings.load(environ={}, cwd=work, home=home, progress=False)
    services = build(settings)
    try:
        entity = Entity("entity", join_keys=["entity_id"])
        services.features.apply([entity, FeatureView("stats", [entity],
                                                     str(work / "stats.parquet"), FEATURES)])
        services.features.materialize()
        entity_df = pd.read_parquet(work / "entities.parquet").head(2000)
        train = services.features.training_set(entity_df, REFS).dropna()
        X = train[FEATURES]
        model = LogisticRegression(max_iter=500).fit(X, train["label"])
        _register(settings, model, X)
        services.deployments.create_deployment("bench-features", "bench-churn",
                                               features=REFS)
    finally:
        services.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    return {**env, "GANNET_HOME": str(home)}


def _register(settings: object, model: object, X: object) -> None:
    import gannet
    from gannet.client import fluent

    gannet.configure(settings)
    try:
        with gannet.start_run(log_environment=False) as run:
            gannet.log_model(model, "model", input_example=X.head(2))  # type: ignore[attr-defined]
        gannet.register_model(run.info.run_id, "bench-churn")
    finally:
        fluent.get_client().close()
        fluent._client = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gannet serve exited: {server.stderr.read() if server.stderr else ''}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} was not ready after {timeout:.0f} s")


def _python_load(url: str, body: bytes, seconds: float) -> tuple[float, int]:
    """Requests/s from CONCURRENCY threads of keep-alive httpx clients (no wrk)."""
    import httpx

    done, errors = [0], [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while time.monotonic() < stop:
                status = client.post("/predict", content=body,
                                     headers={"content-type": "application/json"}).status_code
                with lock:
                    done[0] += 1
                    errors[0] += status != 200

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), errors[0]


def serve_with_features(work: Path, entities: int, seconds: float) -> dict:
    """Requests/s (and wrk's p50/p99) of ``gannet serve`` with a 10-feature lookup."""
    import httpx

    env = _prepare(work)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "gannet", "serve", "bench-features",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(url, server)
        body = work / "body.json"
        body.write_text(f'[{{"entity_id": {entities // 2}}}]')
        check = httpx.post(f"{url}/predict", content=body.read_bytes(),
                           headers={"content-type": "application/json"}, timeout=10)
        if check.status_code != 200:
            sys.exit(f"the server refused the body: {check.status_code} {check.text}")
        if shutil.which("wrk"):
            sys.path.insert(0, str(Path(__file__).parent))
            from serving import LUA, wrk

            lua = work / "post.lua"
            lua.write_text(LUA)
            wrk(f"{url}/predict", body, 8, 1, lua)  # warm-up
            rps, p50, p99, errors, _ = wrk(f"{url}/predict", body, CONCURRENCY, seconds, lua)
            tool = "wrk"
        else:
            _python_load(url, body.read_bytes(), 1.0)  # warm-up
            rps, errors = _python_load(url, body.read_bytes(), seconds)
            p50 = p99 = float("nan")
            tool = "a Python client (wrk not found: the client is the bottleneck)"
    finally:
        server.terminate()
        server.wait(30)
    line = (f"inference server with a 10-feature lookup (SQLite online store), {tool}, "
            f"concurrency {CONCURRENCY}: {rps:,.0f} requests/s, p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms, {errors} errors (goal > {GOAL_RPS:,.0f} requests/s: "
            f"{'met' if rps > GOAL_RPS else 'NOT met'})")
    return {"tool": tool, "concurrency": CONCURRENCY, "rps": rps, "p50_ms": p50,
            "p99_ms": p99, "errors": errors, "goal_met": rps > GOAL_RPS, "line": line}
