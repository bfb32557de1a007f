"""A store with datasets, pipeline runs and a schedule, feature views and a monitor with
alerts, made the way people make them: ``gannet`` commands on real files (Typer's runner
in this process, and a real subprocess for a pipeline run that the browser watches live).
The web UI's tests of those capabilities read it through real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.core.settings import Settings

HOUR = 3_600_000

FLOW = """
    import gannet

    @gannet.step
    def load(n: int, data: str) -> list:
        print(f"loaded {n} rows of {data}")
        return list(range(n))

    @gannet.step
    def fit(xs: list, lr: float) -> float:
        print(f"fitting with lr={lr}")
        return sum(xs) * lr

    @gannet.step
    def report(score: float) -> str:
        return f"score {score}"

    @gannet.pipeline
    def train(n: int = 3, lr: float = 0.5, data: str = "customers@1"):
        report(fit(load(n, data), lr))
"""

SLOW_FLOW = """
    import pathlib
    import time

    import gannet

    FLAG = pathlib.Path({flag!r})

    @gannet.step
    def wait() -> int:
        deadline = time.monotonic() + 90
        while not FLAG.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return 1

    @gannet.step
    def after(x: int) -> int:
        return x + 1

    @gannet.pipeline
    def slow():
        after(wait())
"""

SUITE = """
checks:
  - {check: not_null, column: customer_id}
  - {check: between, column: tenure, min: 0, max: 24}
"""

ALERTS = """
notifiers: {ops: {type: log}}
rules: [{name: drifting, when: drift.share >= 0.5, severity: warning, notify: [ops]}]
"""


@dataclass
class Cli:
    """``gannet <args>`` against the world's stores, which must succeed (unless told)."""

    settings: Settings

    @property
    def stores(self) -> list[str]:
        s = self.settings
        return ["--home", str(s.home), "--metadata-url", s.metadata_url,
                "--artifacts-url", s.artifacts_url]

    @property
    def env(self) -> dict[str, str | None]:
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GANNET_")}
        env.update({"COLUMNS": "200", "NO_COLOR": "1"})
        return env

    def __call__(self, *args: str, ok: bool = True) -> Any:
        result = CliRunner().invoke(app, [*self.stores, *map(str, args)], env=self.env)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def spawn(self, *args: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
        return subprocess.Popen([sys.executable, "-m", "gannet", *self.stores, *args],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def make_datasets(cli: Cli, root: Path) -> None:
    """customers@1 (3 rows) and customers@2 (5 rows, a new column), described, the second
    validated (a check fails), and an empty-ish second dataset for the search."""
    folder = root / "customers"
    folder.mkdir()
    first = pd.DataFrame({"customer_id": [1, 2, 3], "tenure": [12.0, 30.5, 3.0],
                          "plan": ["basic", "pro", "basic"]})
    first.to_parquet(folder / "customers.parquet")
    cli("data", "add", folder / "customers.parquet", "--name", "customers", "-m", "January")
    second = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5],
                           "tenure": [12.0, 30.5, 3.0, 7.5, 40.0],
                           "plan": ["basic", "pro", "basic", "plus", "pro"],
                           "region": ["north", "south", "north", "east", "south"]})
    second.to_parquet(folder / "customers.parquet")
    cli("data", "add", folder / "customers.parquet", "--name", "customers", "-m", "February")
    cli("data", "describe", "customers", "-d", "Customers and their plans", "--owner",
        "growth", "--keyword", "churn")
    (root / "prices.csv").write_text("sku,price\na,1.5\nb,2.0\n")
    cli("data", "add", root / "prices.csv", "--name", "prices", "-m", "price list")
    suite = write(root / "suite.yaml", SUITE)
    failed = cli("data", "validate", "customers@2", "--suite", suite, ok=False)
    assert failed.exit_code == 1, failed.output  # tenure 30.5 and 40 are out of range


def make_pipelines(cli: Cli, root: Path) -> Path:
    """Two runs of ``train`` (the second all cache hits) and a schedule; the slow flow's
    file, whose run the test starts."""
    flow = write(root / "flow.py", FLOW)
    for _ in range(2):
        cli("pipeline", "run", flow, "--executor", "local", "-p", "n=4")
    cli("schedule", "create", flow, "--cron", "0 3 * * *", "--executor", "local", "-p", "n=9")
    return write(root / "slow.py", SLOW_FLOW.format(flag=str(root / "go")))


def make_features(cli: Cli, root: Path) -> None:
    day = pd.Timedelta(days=1)
    t0 = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s") - 10 * day
    pd.DataFrame({"customer_id": [1, 1, 2], "event_timestamp": [t0, t0 + 3 * day, t0 + day],
                  "orders_30d": [10, 30, 5], "spend_30d": [100.0, 300.0, 50.0]}
                 ).to_parquet(root / "churn_stats.parquet")
    definitions = write(root / "features.yaml", f"""
        entities:
          - name: customer
            join_keys: [customer_id]
            description: someone who pays
        feature_views:
          - name: churn_stats
            entities: [customer]
            source: {root / "churn_stats.parquet"}
            features: [orders_30d, spend_30d]
            ttl: 30d
            owner: growth
            tags: {{team: growth}}
    """)
    cli("features", "apply", definitions)
    cli("features", "materialize")


def _traffic(n: int, *, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    probabilities = [0.6, 0.3, 0.1] if not shift else [0.1, 0.3, 0.6]
    return pd.DataFrame({"tenure": rng.normal(24 + shift, 6, n),
                         "plan": rng.choice(["basic", "plus", "pro"], n, p=probabilities)})


def make_monitor(cli: Cli, root: Path, log_root: Path) -> None:
    """churn-api's traffic: an hour like the reference, then an hour that drifted; the
    monitor's run reports both, and the rule fires on the second."""
    from gannet.serving.log import InferenceLogWriter, LoggedPrediction

    _traffic(400, shift=0, seed=1).to_parquet(root / "reference.parquet")
    now = int(time.time() * 1000)
    writer = InferenceLogWriter(log_root, flush_interval=3600)
    for offset, shift in ((3, 0.0), (2, 15.0)):
        start = (now // HOUR - offset) * HOUR
        rows = _traffic(200, shift=shift, seed=offset)
        for i, row in enumerate(rows.itertuples()):
            writer.log(LoggedPrediction(
                deployment="churn-api", model="churn", version=1, request_id=f"r{start}-{i}",
                timestamp_ms=start + i * (HOUR // 200), latency_ms=1.0,
                inputs={"tenure": [float(row.tenure)], "plan": [str(row.plan)]},
                outputs=np.array([int(row.tenure < 24)]),
                probabilities=np.array([[0.5, 0.5]])))
    assert writer.flush(timeout=60)
    writer.close()
    cli("alerts", "apply", write(root / "alerts.yaml", ALERTS))
    cli("monitor", "create", "churn-api", "--reference", root / "reference.parquet",
        "--window", "hour", "--features", "tenure,plan")
    cli("monitor", "run", "churn-api")
