"""Helpers for the inference-server tests: real models in a real registry, real servers.

Models are trained, logged and registered through the SDK on an embedded (SQLite) store;
servers listen on 127.0.0.1 on a free port, in a thread of the test process (``LiveServer``)
or as a ``gannet serve`` subprocess (``CliServer``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from waiting import wait_until

from gannet.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def make_settings(folder: Path) -> Settings:
    return Settings.load(
        environ={}, cwd=folder, home=folder / ".gannet",
        metadata_url=f"sqlite:///{folder / 'gannet.db'}", progress=False, lock_timeout=10.0,
    )


@dataclass
class Registered:
    """Versions of model ``name``: the fitted objects by version, and held-out rows."""

    settings: Settings
    name: str
    models: dict[int, Any]
    X: Any  # a DataFrame of held-out rows
    services: Any = field(default=None, repr=False)

    def expected(self, version: int, rows: Any) -> list:
        return self.models[version].predict(rows).tolist()

    def records(self, start: int, n: int = 1) -> list[dict]:
        return self.X.iloc[start:start + n].to_dict(orient="records")


def register_breast_cancer(folder: Path, name: str = "churn", strengths=(1.0, 0.001)) -> Registered:
    """One scaled LogisticRegression per C in ``strengths``, registered as versions 1, 2, ...;
    ``name@champion`` points at version 1."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import gannet
    from gannet.bootstrap import build
    from gannet.client import fluent

    settings = make_settings(folder)
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    gannet.configure(settings)
    models = {}
    try:
        for version, c in enumerate(strengths, start=1):
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
            model.fit(X_train, y_train)
            with gannet.start_run(log_environment=False) as run:
                gannet.log_model(model, "model", input_example=X_train.head(3))
            gannet.register_model(run.info.run_id, name)
            models[version] = model
        gannet.set_registered_model_alias(name, "champion", 1)
    finally:
        fluent.get_client().close()
        fluent._client = None
        fluent._experiment_id = None
    return Registered(settings, name, models, X_test.reset_index(drop=True), build(settings))


class SlowOrFailing:
    """A python-flavor model: waits ``wait`` seconds per batch, raises when ``x`` is -1."""

    def __init__(self, wait: float = 0.0) -> None:
        self.wait = wait

    def predict(self, data: Any) -> Any:
        values = data["x"].to_numpy()
        if (values == -1).any():
            raise ValueError("x = -1 is what this model cannot take")
        if (values == -2).any():
            time.sleep(1.0)
        time.sleep(self.wait)
        return values * 2

    def save(self, path: Path) -> None:
        (Path(path) / "wait.txt").write_text(repr(self.wait))

    @classmethod
    def load(cls, path: Path) -> SlowOrFailing:
        return cls(float((Path(path) / "wait.txt").read_text()))


def register_slow_model(settings: Settings, name: str = "slow", wait: float = 0.0,
                        example: dict | None = None) -> None:
    """``SlowOrFailing`` registered as ``name``; its signature is ``example``'s (default
    ``{"x": [1.0, 2.0]}``; add a text column to get a mixed-dtype signature)."""
    import pandas as pd

    import gannet
    from gannet.client import fluent

    gannet.configure(settings)
    try:
        with gannet.start_run(log_environment=False) as run:
            gannet.log_model(SlowOrFailing(wait), "model",
                             input_example=pd.DataFrame(example or {"x": [1.0, 2.0]}))
        gannet.register_model(run.info.run_id, name)
    finally:
        fluent.get_client().close()
        fluent._client = None
        fluent._experiment_id = None


class LiveServer:
    """``create_app`` on uvicorn in a thread of this process, on a free loopback port."""

    def __init__(self, services: Any, target: str, *, log: Any = None, **options: Any) -> None:
        import uvicorn

        from gannet.serving.server.runner import ServeOptions, build_app
        from gannet.serving.server.tcp import bind_socket, nodelay_protocol

        opts = ServeOptions(log_factory=(lambda: log) if log is not None else None, **options)
        self.app = build_app(services, target, opts)
        self.sock = bind_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, http=nodelay_protocol(), lifespan="on",
                                access_log=False, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_ready(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    @property
    def host(self) -> Any:
        return self.app.host


def first_answer(url: str, timeout: float = 60.0,
                 proc: subprocess.Popen | None = None) -> httpx.Response:
    """``GET url``'s answer once the server takes connections."""

    def answer() -> httpx.Response | None:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            return None

    return wait_until(answer, timeout, what=f"an answer from {url}")


def wait_ready(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Until ``url``'s readiness answers 200 (its models are loaded)."""
    ready = f"{url}/v2/health/ready"
    wait_until(lambda: first_answer(ready, timeout, proc).status_code == 200, timeout,
               what=f"{url} being ready")


class CliServer:
    """``gannet serve`` in a subprocess (its own process group), on a free port."""

    def __init__(self, settings: Settings, target: str, *args: str,
                 env: dict[str, str] | None = None, ready: bool = True) -> None:
        """``env`` adds to the environment (``GANNET_*`` of this one are left out);
        ``ready=False`` returns once it listens, without waiting for its models."""
        self.settings = settings
        self.extra_env = env or {}
        self.wait_ready = ready
        self.command = [
            sys.executable, "-m", "gannet", "--home", str(settings.home), "--metadata-url",
            settings.metadata_url, "--artifacts-url", settings.artifacts_url,
            "serve", target, "--port", "0", *args,
        ]
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.stderr = ""

    def __enter__(self) -> CliServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
        here = Path(__file__).parent  # server_fixtures (python-flavor models), waiting
        env["PYTHONPATH"] = os.pathsep.join([str(here), str(here.parent),
                                             env.get("PYTHONPATH", "")])
        env.update(self.extra_env)
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True)
        line = self.proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not found:
            self.proc.kill()
            self.proc.wait()
            self.stderr = self.proc.stderr.read()
            self.stop()
            raise RuntimeError(f"gannet serve did not start: {line}{self.stderr}")
        self.url = f"http://127.0.0.1:{found.group(1)}"
        if self.wait_ready:
            try:
                wait_ready(self.url, proc=self.proc)
            except BaseException:
                self.stop()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM when it still runs, then its exit status; what it wrote to stderr is
        kept in ``self.stderr`` when it was still running (a server that died another
        way may have left workers behind that hold the pipe)."""
        if self.proc is None:
            return 0
        if self.proc.stdout.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.stderr = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


class CollectingLog:
    """A PredictionLog that keeps what it is given (for tests that need no Parquet)."""

    def __init__(self) -> None:
        self.predictions: list = []
        self.closed = False

    def log(self, prediction: Any) -> None:
        self.predictions.append(prediction)

    def close(self) -> None:
        self.closed = True


def v2_columns(frame: Any, *, nested: bool = False) -> list[dict]:
    """A DataFrame as V2 inputs, one FP64 tensor per column."""
    return [{"name": str(c), "datatype": "FP64",
             "shape": [len(frame), 1] if nested else [len(frame)],
             "data": [[v] for v in frame[c].tolist()] if nested else frame[c].tolist()}
            for c in frame.columns]


def as_list(values: Any) -> list:
    return np.asarray(values).tolist()
