"""A deployment's live traffic in a real browser (Chromium driven by Playwright) over a
real server on 127.0.0.1: requests answered by version 1 and copied to shadow version 2,
written to the inference log the way the inference server writes them, are charted per
minute with their latency; the shadow's agreement with the primary is counted; the charts
follow new requests by polling ``traffic.json``, and the window can be narrowed. Requests
a real ``gannet serve`` of the deployment refused are counted per version from its
``/metrics`` (the ``ui_inference_servers`` setting names it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import numpy as np
import pytest
from browsing import Console, accessibility_problems, shoot, watched_page
from capability_world import Cli

from gannet.bootstrap import build
from gannet.core.settings import Settings
from gannet.serving.log import LoggedPrediction
from gannet.testing.server import running_server, wait_ready

pytestmark = pytest.mark.slow  # a browser

MINUTE = 60_000


@dataclass
class World:
    services: object
    url: str
    settings: Settings


def log_requests(services, count: int, *, minutes_ago: float, latency_ms: float) -> None:
    """``count`` requests answered by churn/1, each copied to shadow churn/2, which agrees
    on three of every four; one request a second from ``minutes_ago``."""
    writer = services.inference_log.writer(flush_interval=3600)
    start = int(time.time() * 1000 - minutes_ago * MINUTE)
    for i in range(count):
        at = start + i * 1000
        for version, shadow in ((1, False), (2, True)):
            answer = i % 2 if not shadow or i % 4 else 1 - i % 2
            writer.log(LoggedPrediction(
                deployment="churn-api", model="churn", version=version,
                request_id=f"r{start}-{i}", timestamp_ms=at,
                latency_ms=latency_ms * (2 if shadow else 1),
                inputs={"a": [float(i)], "b": [1.0]}, outputs=np.array([answer]),
                shadow=shadow))
    assert writer.flush(timeout=60)
    writer.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    from sklearn.dummy import DummyClassifier

    from gannet.models.package import save_model

    root = tmp_path_factory.mktemp("traffic")
    settings = Settings.load(environ={}, cwd=root, home=root / ".gannet", progress=False,
                             metadata_url=f"sqlite:///{root / 'gannet.db'}",
                             capture_environment=False)
    services = build(settings)
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    save_model(DummyClassifier().fit(X, [0, 1, 1]), root / "package", input_example=X)
    for _ in range(2):
        services.registry.register_model(root / "package", "churn")
    cli = Cli(settings)
    cli("deployments", "create", "churn-api", "--model", "churn", "--route", "1=100")
    cli("deployments", "set-shadows", "churn-api", "2")
    log_requests(services, 40, minutes_ago=24, latency_ms=5.0)
    try:
        with running_server(services) as url:
            yield World(services, url, settings)
    finally:
        services.close()


@pytest.fixture
def page(browser, world):
    yield from watched_page(browser, world.url)


def polled(page, requests: int) -> None:
    page.wait_for_function(
        f"document.getElementById('live').dataset.requests === '{requests}'", timeout=20_000)
    page.wait_for_selector("#live-requests .plot[data-drawn='true']")


def traces(page, figure: str) -> dict[str, list[float]]:
    return page.evaluate(f"""Object.fromEntries(document.querySelector('#{figure} .plot')
        .data.map((t) => [t.name, t.y]))""")


def test_live_traffic_and_shadow_agreement(page, world, shots):
    page.goto("/ui/deployments/churn-api?poll=1")
    polled(page, 40)
    assert "40 requests answered" in page.locator(".live-status").inner_text()
    rates = traces(page, "live-requests")
    assert sorted(rates) == ["version 1", "version 2 (shadow)"]
    assert sum(rates["version 1"]) == 40 and sum(rates["version 2 (shadow)"]) == 40
    latency = traces(page, "live-latency")
    assert set(latency["version 1 p50"]) == {5.0}
    assert set(latency["version 2 (shadow) p99"]) == {10.0}
    rows = page.locator("table.shadows tbody tr td").all_inner_texts()
    assert rows == ["2", "1", "40", "30", "75.0%"]
    assert accessibility_problems(page) == []
    shoot(page, shots, "deployment-live")

    log_requests(world.services, 6, minutes_ago=1, latency_ms=20.0)  # new traffic
    polled(page, 46)  # the page asked again and redrew
    assert max(traces(page, "live-latency")["version 1 p99"]) == 20.0
    page.get_by_label("Window").select_option("15")
    polled(page, 6)  # only the new requests are that recent
    assert sum(traces(page, "live-requests")["version 1"]) == 6


def test_traffic_json_refuses_what_it_cannot_answer(world):
    answer = httpx.get(f"{world.url}/ui/deployments/churn-api/traffic.json?minutes=7")
    assert answer.status_code == 400
    assert "minutes=7 is not offered" in answer.json()["error"]
    answer = httpx.get(f"{world.url}/ui/deployments/nothing/traffic.json")
    assert answer.status_code == 404 and "nothing" in answer.json()["error"]


@pytest.fixture
def inference_server(world) -> Iterator[str]:
    """``gannet serve churn-api`` in a subprocess on a free port (its log off: the traffic
    charts above count only what ``log_requests`` wrote); its URL."""
    s = world.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gannet", "--home", str(s.home), "--metadata-url",
         s.metadata_url, "--artifacts-url", s.artifacts_url, "serve", "churn-api",
         "--port", "0", "--no-log"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    try:
        found = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
        assert found, server.stderr.read()
        url = found.group(0)
        wait_ready(url, server, timeout=60, path="/v2/health/ready")
        yield url
    finally:
        server.terminate()
        server.wait(30)
        server.stdout.close()
        server.stderr.close()


def test_failed_requests_are_counted_per_version(browser, world, inference_server, shots):
    for rows in ([[0.0, 1.0]], [[2.0, 2.0], [1.0, 0.0]], [[1.0, 1.0]]):
        assert httpx.post(f"{inference_server}/predict", json=rows).status_code == 200
    for rows in ([[0.0]], [[1.0, 2.0, 3.0]]):  # the signature wants two columns
        assert httpx.post(f"{inference_server}/predict", json=rows).status_code == 422
    assert httpx.post(f"{inference_server}/predict", content=b"{not json",
                      headers={"content-type": "application/json"}).status_code == 400
    settings = replace(world.settings, ui_inference_servers=(
        f"churn-api={inference_server},http://127.0.0.1:9; other=http://127.0.0.1:9"))
    services = build(settings)
    try:
        with running_server(services) as url:
            context = browser.new_context(base_url=url, viewport={"width": 1280,
                                                                  "height": 1000})
            page = context.new_page()
            console = Console(page)
            page.goto("/ui/deployments/churn-api?poll=1")
            page.wait_for_selector("table.errors tbody tr[data-version='1']")
            cells = page.locator("table.errors tbody tr[data-version='1'] td")
            assert cells.all_inner_texts() == ["1", "6", "3", "50.0%", "400: 1, 422: 2"]
            assert page.locator(".errors-servers").inner_text() == (
                "Read from 1 of 2 inference servers (not answering: http://127.0.0.1:9).")
            assert accessibility_problems(page) == []
            shoot(page, shots, "deployment-errors")
            context.close()
            assert console.errors == []
    finally:
        services.close()


def test_without_its_servers_the_page_says_how_to_name_them(page):
    page.goto("/ui/deployments/churn-api?poll=1")
    page.wait_for_function("document.getElementById('live').dataset.polls === '1'")
    assert "list them in the ui_inference_servers setting" in page.locator(
        "table.errors").inner_text()


def test_a_malformed_server_list_is_named(world):
    from gannet.core.errors import SettingsError

    services = build(replace(world.settings, ui_inference_servers="churn-api"))
    try:
        with pytest.raises(SettingsError, match="'churn-api' is not 'deployment=http"):
            services.deployments.get_deployment_errors("churn-api")
    finally:
        services.close()
