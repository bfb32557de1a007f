"""Serving one model over HTTP: Gannet vs MLflow vs BentoML vs a bare endpoint.

One model: a 100-tree GradientBoostingClassifier on scikit-learn's breast-cancer data
(fixed seed). Each server is started in turn, alone on the machine, on 127.0.0.1:

- ``mlflow``: ``mlflow models serve --env-manager local`` (its defaults), the model saved
  with ``mlflow.sklearn.save_model``; body ``{"dataframe_records": [...]}``;
- ``bentoml``: a ``@bentoml.service`` whose ``@bentoml.api predict(records)`` builds a
  DataFrame and calls ``predict`` (its defaults: one worker, no adaptive batching);
- ``bentoml-batching``: the same with BentoML's documented tuning for this, adaptive
  batching (``@bentoml.api(batchable=True, max_batch_size=256)``, its default latency budget);
- ``gannet``: ``gannet serve bc@champion`` as a user gets it (the inference log on;
  1 worker, then 2 as ``gannet-2w``), the model logged and registered through the SDK;
  body: a list of records; ``gannet-nolog`` is the opt-in ``--no-log`` variant beside it;
- ``mlserver``: Seldon's MLServer 1.7 (V2 protocol) with its scikit-learn runtime and its
  defaults, the model saved with joblib; body: one V2 FP64 tensor (rows x 30). It runs
  from its own venv, ``bench/.venv-mlserver`` (its pins clash with MLflow's);
- ``gannet-2w-nolog`` and ``gannet-v2-2w``: two workers without the log, and with the log
  on the V2 endpoint (the same body as MLServer's);
- ``bare``: a raw ASGI app on the same uvicorn (httptools, uvloop) that parses the records
  with orjson, builds a DataFrame and calls the estimator's ``predict`` once per request,
  in the event loop - what a hand-written endpoint does;
- ``constant``: the same raw ASGI app answering a fixed body without predicting (the
  ceiling of the HTTP stack on this machine).

Load: ``wrk`` (one thread, keep-alive, a Lua script POSTing the JSON body) for
``--seconds`` at concurrency 1, 8 and 32 with 1-row and 100-row requests, after a short
warm-up; any non-2xx answer fails the cell. Printed: requests/s, p50 and p99 latency and
the ratio of requests/s to MLflow's and BentoML's. Needs ``wrk`` on the PATH and, in the
benchmark environment, ``mlflow`` and ``bentoml``:

    bench/.venv/bin/pip install -e ".[all,serving]" -r bench/requirements.txt bentoml
    python -m venv bench/.venv-mlserver
    bench/.venv-mlserver/bin/pip install mlserver==1.7.1 mlserver-sklearn==1.7.1 "uvloop<0.22"
    bench/.venv/bin/python bench/serving.py
    bench/.venv/bin/python bench/serving.py --only gannet,bare --seconds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

TREES = 100
SEED = 0
CONCURRENCY = (1, 8, 32)
ROWS = (1, 100)
SERVERS = ("mlflow", "bentoml", "bentoml-batching", "mlserver", "gannet", "gannet-2w",
           "gannet-v2-2w", "gannet-nolog", "gannet-2w-nolog", "bare", "constant")
ANCHORS = ("mlflow", "bentoml", "bentoml-batching", "mlserver")
MLSERVER = Path(__file__).parent / ".venv-mlserver" / "bin" / "mlserver"
BIN = Path(sys.executable).parent

LUA = """
local f = io.open(os.getenv("BODY_FILE"), "r")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
"""

ASGI = '''
import os, orjson, pandas as pd, skops.io as sio
model = sio.load(os.environ["BENCH_MODEL"], trusted=sio.get_untrusted_types(
    file=os.environ["BENCH_MODEL"]))
CONSTANT = os.environ.get("BENCH_CONSTANT") == "1"

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].replace("lifespan.", "")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if CONSTANT:
        out = b'{"predictions":[0]}'
    else:
        frame = pd.DataFrame(orjson.loads(body))
        out = orjson.dumps({"predictions": model.predict(frame).tolist()})
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})
'''

BENTO = '''
import os
import bentoml
import pandas as pd
import skops.io as sio


@bentoml.service
class BreastCancer:
    def __init__(self) -> None:
        path = os.environ["BENCH_MODEL"]
        self.model = sio.load(path, trusted=sio.get_untrusted_types(file=path))

    @bentoml.api(BATCHING)
    def predict(self, records: list[dict]) -> list:
        return self.model.predict(pd.DataFrame(records)).tolist()
'''
BENTO_DEFAULT = ""
BENTO_BATCHING = "batchable=True, batch_dim=0, max_batch_size=256"  # its default latency budget


@dataclass
class Cell:
    server: str
    rows: int
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train(folder: Path) -> tuple[object, object, Path]:
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = GradientBoostingClassifier(n_estimators=TREES, random_state=SEED).fit(X, y)
    path = folder / "model.skops"
    sio.dump(model, path)
    return model, X, path


def bodies(X, folder: Path) -> dict[tuple[str, int], Path]:
    """JSON bodies per (format, rows): records (gannet, bare), MLflow's, BentoML's."""
    found = {}
    for rows in ROWS:
        records = X.head(rows).to_dict(orient="records")
        v2 = {"inputs": [{"name": "input-0", "shape": [rows, X.shape[1]], "datatype": "FP64",
                          "data": X.head(rows).to_numpy().ravel().tolist()}]}
        for kind, doc in (("records", records), ("mlflow", {"dataframe_records": records}),
                          ("bentoml", {"records": records}), ("v2", v2)):
            path = folder / f"{kind}-{rows}.json"
            path.write_text(json.dumps(doc))
            found[(kind, rows)] = path
    return found


# -- the servers -----------------------------------------------------------------------------


def start_mlflow(model, X, folder: Path, port: int) -> tuple[list[str], dict, str, str]:
    import mlflow.sklearn

    target = folder / "mlflow-model"
    mlflow.sklearn.save_model(model, target, serialization_format="cloudpickle",
                              input_example=X.head(2))
    command = [str(BIN / "mlflow"), "models", "serve", "-m", str(target), "--env-manager",
               "local", "-h", "127.0.0.1", "-p", str(port)]
    env = {"MLFLOW_TRACKING_URI": f"file:{folder / 'mlruns'}",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # it starts uvicorn
    return command, env, "/invocations", "mlflow"


def start_bentoml(model_path: Path, folder: Path, port: int,
                  batching: bool) -> tuple[list[str], dict, str, str]:
    module = "bento_batching" if batching else "bento_service"
    source = BENTO.replace("@bentoml.api(BATCHING)", f"@bentoml.api({BENTO_BATCHING})"
                           if batching else "@bentoml.api")
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    command = [str(BIN / "bentoml"), "serve", f"{module}:BreastCancer", "--host",
               "127.0.0.1", "--port", str(port)]
    return command, {"BENCH_MODEL": str(model_path)}, "/predict", "bentoml"


def start_mlserver(model, folder: Path, port: int) -> tuple[list[str], dict, str, str]:
    """MLServer with its scikit-learn runtime and its defaults; it lives in a venv of its
    own (bench/.venv-mlserver: its pins clash with MLflow's and BentoML's)."""
    import joblib

    if not MLSERVER.exists():
        raise RuntimeError(f"{MLSERVER} is missing: python -m venv bench/.venv-mlserver && "
                           "bench/.venv-mlserver/bin/pip install mlserver==1.7.1 "
                           "mlserver-sklearn==1.7.1 'uvloop<0.22' (its workers fail on newer "
                           "uvloop: 'no current event loop')")
    root = folder / "mlserver"
    (root / "bc").mkdir(parents=True, exist_ok=True)
    joblib.dump(model, root / "bc" / "model.joblib")
    (root / "bc" / "model-settings.json").write_text(json.dumps({
        "name": "bc", "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"}}))
    (root / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": port, "grpc_port": free_port(),
        "metrics_port": free_port()}))
    return [str(MLSERVER), "start", str(root)], {}, "/v2/models/bc/infer", "v2"


def start_gannet(model, X, folder: Path, port: int, workers: int,
                 log: bool, v2: bool = False) -> tuple[list[str], dict, str, str]:
    home = folder / "gannet-home"
    if not home.exists():
        import gannet
        from gannet.core.settings import Settings

        gannet.configure(Settings.load(environ={}, cwd=folder, home=home, progress=False))
        with gannet.start_run(log_environment=False) as run:
            gannet.log_model(model, "model", input_example=X.head(2))
        gannet.register_model(run.info.run_id, "bc")
        gannet.set_registered_model_alias("bc", "champion", 1)
        gannet.get_client().close()
    command = [str(BIN / "gannet"), "--home", str(home), "serve", "bc@champion", "--port",
               str(port), "--workers", str(workers), *([] if log else ["--no-log"])]
    if v2:
        return command, {}, "/v2/models/bc/infer", "v2"
    return command, {}, "/predict", "records"


def start_asgi(model_path: Path, folder: Path, port: int, constant: bool) -> tuple[list[str],
                                                                                  dict, str, str]:
    (folder / "bare_app.py").write_text(ASGI)
    command = [str(BIN / "uvicorn"), "bare_app:app", "--host", "127.0.0.1", "--port", str(port),
               "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level",
               "warning"]
    env = {"BENCH_MODEL": str(model_path), "BENCH_CONSTANT": "1" if constant else "0"}
    return command, env, "/", "records"


def wait_until_serving(url: str, body: bytes, proc: subprocess.Popen, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            answer = httpx.post(url, content=body, timeout=5,
                                headers={"content-type": "application/json"})
            if answer.status_code == 200:
                return answer.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


# -- load ------------------------------------------------------------------------------------


def wrk(url: str, body: Path, concurrency: int, seconds: float, lua: Path) -> tuple:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "-s", str(lua),
               "--latency", "--timeout", "10s", url]
    out = subprocess.run(command, env={**os.environ, "BODY_FILE": str(body)},
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    return rps, p50, p99, int(errors.group(1)) if errors else 0, sockets


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_server(name: str, ctx: dict, seconds: float) -> list[Cell]:
    folder, port = ctx["folder"], free_port()
    if name == "mlflow":
        command, env, path, kind = start_mlflow(ctx["model"], ctx["X"], folder, port)
    elif name.startswith("bentoml"):
        command, env, path, kind = start_bentoml(ctx["model_path"], folder, port,
                                                 name.endswith("batching"))
    elif name == "mlserver":
        command, env, path, kind = start_mlserver(ctx["model"], folder, port)
    elif name.startswith("gannet"):
        workers = 2 if "2w" in name else 1
        command, env, path, kind = start_gannet(ctx["model"], ctx["X"], folder, port, workers,
                                                log=not name.endswith("nolog"), v2="v2" in name)
    else:
        command, env, path, kind = start_asgi(ctx["model_path"], folder, port,
                                              name == "constant")
    url = f"http://127.0.0.1:{port}{path}"
    log = (folder / f"{name}.log").open("w")
    proc = subprocess.Popen(command, cwd=folder, env={**os.environ, **env}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    cells = []
    try:
        first = ctx["bodies"][(kind, 1)]
        try:
            answer = wait_until_serving(url, first.read_bytes(), proc)
        except (RuntimeError, TimeoutError):
            log.flush()
            print((folder / f"{name}.log").read_text()[-3000:], file=sys.stderr)
            raise
        print(f"  {name}: serving, answers {json.dumps(answer)[:60]}", file=sys.stderr)
        for rows in ROWS:
            body = ctx["bodies"][(kind, rows)]
            wrk(url, body, 8, 1, ctx["lua"])  # warm-up
            for concurrency in CONCURRENCY:
                rps, p50, p99, errors, sockets = wrk(url, body, concurrency, seconds, ctx["lua"])
                cells.append(Cell(name, rows, concurrency, rps, p50, p99, errors))
                print(f"  {name:9} rows={rows:<3} c={concurrency:<2} {rps:9.0f} req/s  "
                      f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  non-2xx {errors}"
                      f"{'  sockets: ' + sockets.group(1) if sockets else ''}", file=sys.stderr)
    finally:
        stop(proc)
        log.close()
    return cells


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL after 30 s."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # what the server left behind (workers)
    except ProcessLookupError:
        pass


# -- report ----------------------------------------------------------------------------------


def table(cells: list[Cell]) -> str:
    by = {(c.server, c.rows, c.concurrency): c for c in cells}
    lines = ["| server | rows | c | req/s | p50 ms | p99 ms | vs MLflow | vs BentoML | "
             "vs BentoML batching | vs MLServer |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in cells:
        ratios = []
        for anchor in ANCHORS:
            base = by.get((anchor, c.rows, c.concurrency))
            ratios.append(f"{c.rps / base.rps:.1f}x" if base and base.rps else "-")
        bad = f" ({c.errors} non-2xx)" if c.errors else ""
        lines.append(f"| {c.server}{bad} | {c.rows} | {c.concurrency} | {c.rps:,.0f} | "
                     f"{c.p50_ms:.2f} | {c.p99_ms:.2f} | {' | '.join(ratios)} |")
    return "\n".join(lines)


def goals(cells: list[Cell]) -> list[str]:
    by = {(c.server, c.rows, c.concurrency): c for c in cells}
    found = []
    for name in ("gannet", "gannet-2w", "gannet-nolog"):
        g = by.get((name, 1, 32))
        if g is None:
            continue
        checks = [("mlflow", 30.0), ("bentoml", 5.0), ("bentoml-batching", 5.0), ("bare", 1.0)]
        for anchor, factor in checks:
            base = by.get((anchor, 1, 32))
            if base:
                ratio = g.rps / base.rps
                found.append(f"{name} c=32 1 row vs {anchor}: {ratio:.1f}x (goal >= {factor:g}x)"
                             f" {'met' if ratio >= factor else 'NOT met'}")
        found.append(f"{name} c=32 1 row p99 {g.p99_ms:.1f} ms (goal < 30 ms) "
                     f"{'met' if g.p99_ms < 30 else 'NOT met'}")
    found += log_goals(by)
    for name in ("gannet", "gannet-2w"):  # keep-alive at c=1: no Nagle + delayed-ACK wait
        one = by.get((name, 1, 1))
        if one is not None:
            found.append(f"{name} c=1 1 row keep-alive p50 {one.p50_ms:.2f} ms (goal < 15 ms, "
                         f"no ~40 ms Nagle wait) {'met' if one.p50_ms < 15 else 'NOT met'}")
    return found


def log_goals(by: dict) -> list[str]:
    """Issue 9's: with the inference log on (the default) and 2 workers, c=32, 1 row:
    within 10% of --no-log, p99 under 15 ms, >= 3x MLServer with a lower p99."""
    found = []
    on, off = by.get(("gannet-2w", 1, 32)), by.get(("gannet-2w-nolog", 1, 32))
    if on and off:
        share = on.rps / off.rps
        found.append(f"gannet-2w (log on) c=32 1 row: {share:.0%} of --no-log's throughput "
                     f"(goal >= 90%) {'met' if share >= 0.9 else 'NOT met'}")
    for name in ("gannet-2w", "gannet-v2-2w"):
        g = by.get((name, 1, 32))
        if g is None:
            continue
        found.append(f"{name} (log on) c=32 1 row p99 {g.p99_ms:.1f} ms (goal < 15 ms) "
                     f"{'met' if g.p99_ms < 15 else 'NOT met'}")
        ml = by.get(("mlserver", 1, 32))
        if ml:
            ratio = g.rps / ml.rps
            ok = ratio >= 3 and g.p99_ms < ml.p99_ms
            found.append(f"{name} c=32 1 row vs mlserver: {ratio:.1f}x, p99 {g.p99_ms:.1f} vs "
                         f"{ml.p99_ms:.1f} ms (goal >= 3x, lower p99) {'met' if ok else 'NOT met'}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", default=",".join(SERVERS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/serving.py needs wrk (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="gannet-bench-serving-"))
    try:
        model, X, model_path = train(folder)
        lua = folder / "post.lua"
        lua.write_text(LUA)
        ctx = {"folder": folder, "model": model, "X": X, "model_path": model_path,
               "bodies": bodies(X, folder), "lua": lua}
        cells = []
        for name in args.only.split(","):
            print(f"{name} ...", file=sys.stderr)
            cells += run_server(name, ctx, args.seconds)
        if args.json:
            print(json.dumps([c.__dict__ for c in cells], indent=2))
            return
        print(table(cells))
        print()
        for line in goals(cells):
            print(f"- {line}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
