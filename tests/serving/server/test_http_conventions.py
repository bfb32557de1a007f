"""The inference server's HTTP conventions over real HTTP: a valid OpenAPI document, /docs
from installed files, CORS, the access log, what /metrics counts, and versions as text."""

import os
import re
import subprocess
from urllib.parse import urljoin

import httpx
import pytest
from server_fixtures import CliServer, LiveServer, register_breast_cancer, v2_columns


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("conventions"))
    yield found
    found.services.close()


@pytest.fixture(scope="module")
def server(registered):
    with LiveServer(registered.services, "churn@champion",
                    cors_origins=("https://app.example.com",)) as live:
        yield live


# -- OpenAPI and /docs --------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_typed_by_the_signature(client, registered):
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").json()
    validate(doc)  # what code generators need: every path parameter declared, refs resolve
    for path, item in doc["paths"].items():
        declared = {p["name"] for p in item.get("parameters", [])}
        assert set(re.findall(r"{(\w+)}", path)) == declared, path
    for path in ("/invocations", "/ping", "/health", "/docs",
                 "/v2/models/{name}/versions/{version}/ready"):
        assert path in doc["paths"]
    assert list(doc["components"]["schemas"]["Record"]["properties"]) == list(registered.X.columns)
    predict_body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert set(predict_body) == {"application/json", "text/csv"}


def test_docs_load_only_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text), "the page names another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js"}
    for asset in assets:
        url = urljoin(f"{client.base_url}/docs", asset)
        assert url.startswith(str(client.base_url)), asset
        fetched = client.get(url)
        assert fetched.status_code == 200 and len(fetched.content) > 100, asset
    assert "SwaggerUIBundle" in client.get("/docs/static/swagger-ui-bundle.js").text
    assert '"/openapi.json"' in page.text and "validatorUrl: null" in page.text
    for elsewhere in ("/docs/static/index.html", "/docs/static/%2e%2e/docs/static/x.css",
                      "/docs/static/%2e%2e%2f%2e%2e%2fopenapi.json", "/docs/static/"):
        assert client.get(elsewhere).status_code == 404, elsewhere


# -- CORS -------------------------------------------------------------------------------------


def test_cors_preflight_and_answers_for_allowed_origins(client, registered):
    allowed = "https://app.example.com"
    preflight = client.options("/predict", headers={
        "origin": allowed, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-request-id"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type, x-request-id"
    answer = client.post("/predict", json=registered.records(0), headers={"origin": allowed})
    assert answer.headers["access-control-allow-origin"] == allowed
    assert "x-request-id" in answer.headers["access-control-expose-headers"]
    assert answer.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in client.get("/ping").headers  # no Origin sent

    other = "https://evil.example.com"
    refused = client.options("/predict", headers={
        "origin": other, "access-control-request-method": "POST"})
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"
    assert other in refused.json()["error"] and "--cors-origins" in refused.json()["hint"]
    read = client.post("/predict", json=registered.records(0), headers={"origin": other})
    assert "access-control-allow-origin" not in read.headers  # the browser keeps it hidden


def test_without_cors_origins_there_are_no_cors_headers(registered):
    with LiveServer(registered.services, "churn@champion") as plain:
        origin = {"origin": "https://app.example.com"}
        preflight = httpx.options(f"{plain.url}/predict", headers={
            **origin, "access-control-request-method": "POST"})
        assert preflight.status_code == 405
        answer = httpx.post(f"{plain.url}/predict", json=registered.records(0), headers=origin)
        assert not [h for h in answer.headers if h.startswith("access-control-")]


# -- /metrics ---------------------------------------------------------------------------------


def _value(text: str, series: str) -> float:
    found = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
             if line.startswith(series)]
    return sum(found)


def test_probes_scrapes_and_docs_are_not_predictions(client, registered):
    client.post("/predict", json=registered.records(0))
    before = client.get("/metrics").text
    for path in ("/ping", "/health", "/v2/health/ready", "/v2/health/live", "/metrics",
                 "/docs", "/openapi.json", "/v2/models/churn"):
        assert client.get(path).status_code == 200
    after = client.get("/metrics").text
    for series in ("gannet_requests_total", "gannet_request_latency_seconds_count",
                   "gannet_request_errors_total"):
        assert _value(after, series) == _value(before, series), series
    assert 'route="/ping"' not in after.split("gannet_other_requests_total")[0]
    assert _value(after, 'gannet_other_requests_total{code="200",route="/ping"}') >= 1
    assert _value(after, 'gannet_other_requests_total{code="200",route="/metrics"}') >= 2
    assert _value(after, "gannet_requests_in_flight") == 0  # the scrape is not a prediction
    for standard in ("process_resident_memory_bytes", "process_cpu_seconds_total",
                     "process_open_fds", "python_info", "python_gc_collections_total"):
        assert standard in after, standard


def test_with_workers_process_metrics_are_the_whole_servers(registered):
    psutil = pytest.importorskip("psutil")
    cli = CliServer(registered.settings, "churn@champion", "--workers", "2", "--no-log")
    with cli, httpx.Client(base_url=cli.url, timeout=30) as http:
        http.post("/predict", json=registered.records(0))
        text = http.get("/metrics").text
        processes = [psutil.Process(cli.proc.pid), *psutil.Process(cli.proc.pid).children()]
        assert len(processes) == 3
        memory = sum(p.memory_info().rss for p in processes)
        scraped = _value(text, "process_resident_memory_bytes")
        assert 0.7 * memory < scraped < 1.3 * memory, (scraped, memory)
        started = min(p.create_time() for p in processes)
        assert abs(_value(text, "process_start_time_seconds") - started) < 2
        assert "python_info" in text
        assert _value(text, 'gannet_requests_total{code="200",model="churn",'
                            'route="/predict",version="1"}') == 1
    assert '"POST /predict"' not in cli.stderr  # no access log unless asked for


# -- the access log -----------------------------------------------------------------------------


def test_the_access_log_is_one_line_per_request_when_asked(registered):
    env = {"GANNET_SERVING_ACCESS_LOG": "true"}  # the setting; --access-log is the flag
    with CliServer(registered.settings, "churn@champion", "--no-log", env=env) as cli:
        httpx.post(f"{cli.url}/predict", json=registered.records(0),
                   headers={"x-request-id": "access-1"})
        httpx.get(f"{cli.url}/nowhere", headers={"x-request-id": "access-2"})
    lines = [line for line in cli.stderr.splitlines() if '"' in line]
    predict = next(line for line in lines if "access-1" in line)
    assert re.search(r'127\.0\.0\.1:\d+ "POST /predict" 200 \d+\.\dms access-1$', predict)
    assert any(re.search(r'"GET /nowhere" 404 .*ms access-2$', line) for line in lines)
    assert any('"GET /v2/health/ready" 200' in line for line in lines)


def test_bad_cors_origins_are_refused_before_serving(registered):
    command = CliServer(registered.settings, "churn@champion", "--cors-origins",
                        "app.example.com").command
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANNET_")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "'app.example.com' is not an origin" in done.stderr and "https://" in done.stderr


# -- versions are text ----------------------------------------------------------------------------


def test_every_version_the_server_answers_is_text(client, registered):
    found = [client.get("/v2").json()["version"],
             *client.get("/v2/models/churn").json()["versions"],
             client.post("/predict", json=registered.records(0)).json()["version"],
             client.post("/v2/models/churn/infer", json={
                 "inputs": v2_columns(registered.X.iloc[:1])}).json()["model_version"],
             client.get("/ping").headers["x-model-version"],
             client.get("/openapi.json").json()["info"]["version"]]
    assert all(isinstance(v, str) and v for v in found), found
