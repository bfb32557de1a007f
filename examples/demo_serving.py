"""The demo's live side: a real inference server process on 127.0.0.1 serving the
deployment, and traffic to it - screening requests, then each case's label through
`POST /feedback` (the biopsy result coming back), as a hospital's systems would send them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pandas as pd
from demo_data import LABEL, at_screening


def wait_until_ready(url: str, seconds: float = 120) -> None:
    """Poll readiness (503 while the models load); a busy machine may answer slowly."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not answering yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not get ready in {seconds:.0f} s")
        time.sleep(0.2)


class Server:
    """`gannet serve TARGET --port 0` as a child process; its URL once it listens."""

    def __init__(self, target: str, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gannet", "serve", target, "--port", "0", *options],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "serving ... on http://127.0.0.1:PORT (...)"
        if " on " not in line:
            self.stop()
            raise RuntimeError(f"gannet serve did not start: {line!r}")
        self.url = line.split(" on ", 1)[1].split()[0]
        wait_until_ready(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Traffic:
    """Screening requests, one case each, and their labels right after; what it saw."""

    def __init__(self, url: str, cases: pd.DataFrame) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.cases = cases
        self.sent = self.errors = 0
        self.versions: dict[str, int] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def use(self, cases: pd.DataFrame) -> None:
        """Send these cases from now on."""
        with self._lock:
            self.cases, self._next = cases, 0

    def send(self, count: int, labels: bool = True) -> None:
        for _ in range(count):
            with self._lock:
                case = self.cases.iloc[[self._next % len(self.cases)]]
                self._next += 1
            self._one(case, labels)

    def _one(self, case: pd.DataFrame, labels: bool) -> None:
        rows: Any = at_screening(case).to_dict(orient="records")
        answer = self.client.post("/predict", json=rows)
        self.sent += 1
        if answer.status_code != 200:
            self.errors += 1
            return
        body = answer.json()
        self.versions[body["version"]] = self.versions.get(body["version"], 0) + 1
        if labels:
            label = int(case[LABEL].iloc[0])
            self.client.post("/feedback", json={"request_id": body["request_id"],
                                                "label": label})

    def start(self, per_second: float = 40.0) -> None:
        """Keep sending in the background (at most `per_second` cases a second)."""

        def loop() -> None:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    self.send(1)
                except httpx.HTTPError:
                    self.errors += 1
                self._stop.wait(max(0.0, 1 / per_second - (time.monotonic() - began)))

        self._thread = threading.Thread(target=loop, daemon=True, name="demo-traffic")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.client.close()


def wait_for_log(log: Any, deployment: str, rows: int, labels: int, seconds: float = 30
                 ) -> None:
    """Until the server's inference log holds `rows` predictions and `labels` labels (it
    writes them about once a second)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = log.query(deployment, "SELECT count(*) AS n, count(label) AS labels "
                                          "FROM joined")
            if int(found["n"].iloc[0]) >= rows and int(found["labels"].iloc[0]) >= labels:
                return
        except Exception:  # nothing written yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the inference log did not reach {rows} rows in {seconds} s")
        time.sleep(0.3)
