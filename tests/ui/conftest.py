"""Fixtures of the web UI's tests: one store per module with real data (runs with metric
histories and artifacts, a registered model with gates, a deployment with revisions, users
in a project), served by two real servers on 127.0.0.1 (auth off and on), and one Chromium
per module (Debian's /usr/bin/chromium driven by Playwright; never a downloaded browser)."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from stores import fresh_services

from gannet.testing.server import running_server
from gannet.tracking.types import Metric

CHROMIUM = "/usr/bin/chromium"
RUNS = 24
POLICY = "aliases:\n  champion:\n    - metric: accuracy\n      min: 0.5\n"


@dataclass(frozen=True)
class Store:
    services: object
    experiment_id: str
    run_ids: list[str]
    open_url: str
    team_url: str
    passwords: dict[str, str]


def png(width: int = 4, height: int = 4) -> bytes:
    """A small valid PNG, made here (no image library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([200, 40, 40]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _seed_runs(services, experiment_id: str) -> list[str]:
    tracking = services.tracking
    run_ids = []
    for i in range(RUNS):
        run = tracking.create_run(experiment_id, run_name=f"run-{i:02d}")
        run_id = run.info.run_id
        lr = [0.001, 0.01, 0.1][i % 3]
        points = [Metric("loss", 1.0 / (step + 1 + i), 1_700_000_000_000 + step * 1000, step)
                  for step in range(20)]
        points.append(Metric("accuracy", 0.5 + i / 100, 1_700_000_020_000, 19))
        tracking.log_batch(run_id, metrics=points,
                           params={"lr": lr, "depth": 2 + i % 5, "model": "rf" if i % 2 else "gb"},
                           tags={"team": "risk"})
        run_ids.append(run_id)
    first = run_ids[0]
    tracking.log_bytes(first, b'{"threshold": 0.5, "classes": ["no", "yes"]}', "config.json")
    tracking.log_bytes(first, b"a,b,label\n1,2,yes\n3,4,no\n", "data/sample.csv")
    tracking.log_bytes(first, b"epoch 1 done\nepoch 2 done\n", "train.log")
    tracking.log_bytes(first, png(), "plots/confusion.png")
    return run_ids


def _seed_model(services, run_id: str, folder: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from gannet.models.package import save_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    save_model(LogisticRegression(max_iter=300).fit(X, y), folder, input_example=X.head(3))
    registry = services.registry
    registry.create_registered_model("churn", "predicts who leaves", project="a")
    registry.set_model_policy("churn", POLICY)
    for _ in range(2):
        registry.register_model(folder, "churn")
    registry.set_registered_model_alias("churn", "champion", 1)
    deployments = services.deployments
    deployments.create_deployment("churn-api", "churn", {"@champion": 1}, reason="launch")
    deployments.set_deployment_traffic("churn-api", {"1": 9, "2": 1}, reason="canary")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("ui")
    services = fresh_services(root)
    auth = services.auth
    passwords = {"alice": "alice-password-1", "rita": "rita-password-1"}
    for name, password in passwords.items():
        auth.create_user(name, password=password)
    auth.create_project("a")
    auth.add_member("a", "alice", "editor")
    auth.add_member("a", "rita", "reader")
    experiment_id = services.tracking.create_experiment("churn", project="a")
    run_ids = _seed_runs(services, experiment_id)
    _seed_model(services, run_ids[0], root / "package")
    try:
        with running_server(services) as open_url, \
                running_server(services, auth=True) as team_url:
            yield Store(services, experiment_id, run_ids, open_url, team_url, passwords)
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking",
                  "--disable-component-update"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the tests save a screenshot of each page."""
    return tmp_path_factory.mktemp("screenshots")
