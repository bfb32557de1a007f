"""Every error the inference server answers has one shape, pinned here over real HTTP:

    {"error": "<message>", "code": "<CODE>", "hint": <hint or null>, "request_id": "<id>"}

with the HTTP status of the error's class in ``gannet.core.errors``.
"""

import httpx
import pytest
from server_fixtures import LiveServer, first_answer, make_settings, register_slow_model

from gannet.bootstrap import build

ENVELOPE = {"error", "code", "hint", "request_id"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("envelope"))
    register_slow_model(settings)  # takes {"x": float}; raises on x = -1
    found = build(settings)
    yield found
    found.close()


@pytest.fixture(scope="module")
def server(services):
    with LiveServer(services, "slow/1", max_body_bytes=2000) as live:  # and no inference log
        yield live


def assert_envelope(answer: httpx.Response, status: int, code: str, request_id: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == ENVELOPE, body
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    assert body["hint"] is None or isinstance(body["hint"], str)
    assert body["request_id"] == request_id == answer.headers["x-request-id"]
    return body


@pytest.mark.parametrize(("method", "path", "content", "status", "code"), [
    ("POST", "/predict", b'{"records": [', 400, "BAD_REQUEST"),
    ("POST", "/v2/models/slow/infer", b"nope", 400, "BAD_REQUEST"),
    ("GET", "/nowhere", None, 404, "ENDPOINT_NOT_FOUND"),
    ("GET", "/v2/models/other", None, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "/v2/models/slow/versions/9/infer", b'{"inputs": []}', 404,
     "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "/predict", None, 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/v2/models/slow/infer", None, 405, "METHOD_NOT_ALLOWED"),
    ("POST", "/predict", b'{"columns": {"x": [' + b"1.0, " * 500 + b"1.0]}}", 413,
     "REQUEST_TOO_LARGE"),
    ("POST", "/predict", b'[{"y": 1.0}]', 422, "INVALID_INPUT"),
    ("POST", "/v2/models/slow/infer", b'{"inputs": [{"name": "x", "shape": [1], '
     b'"datatype": "FP99", "data": [1]}]}', 422, "INVALID_INPUT"),
    ("POST", "/predict", b'[{"x": -1.0}]', 500, "MODEL_ERROR"),
    ("POST", "/feedback", b'{"request_id": "r-1", "label": 1}', 501, "NOT_IMPLEMENTED"),
])
def test_each_error_has_the_envelope_its_code_and_its_status(server, method, path, content,
                                                              status, code):
    request_id = f"envelope-{status}-{code.lower()}"
    answer = httpx.request(method, f"{server.url}{path}", content=content,
                           headers={**JSON, "x-request-id": request_id}, timeout=30)
    assert_envelope(answer, status, code, request_id)


def test_the_messages_say_what_is_wrong(server):
    refused = httpx.post(f"{server.url}/predict", json=[{"y": 1.0}]).json()
    assert "input is missing column 'x'" in refused["error"]
    failed = httpx.post(f"{server.url}/predict", json=[{"x": -1.0}]).json()
    assert "model slow/1 failed: ValueError: x = -1" in failed["error"]
    assert httpx.get(f"{server.url}/nowhere").json()["hint"]  # where the routes are


def test_not_ready_is_503_with_the_envelope(services):
    server = LiveServer(services, "slow/1")
    server.host.source = _store_down  # the first plan fails: nothing loads
    server.thread.start()
    try:
        ready = first_answer(f"{server.url}/v2/health/ready")
        assert ready.status_code == 503
        assert set(ready.json()) == {"ready", *ENVELOPE}  # V2's field, and the envelope
        assert ready.json()["ready"] is False and ready.json()["code"] == "NOT_READY"
        answer = httpx.post(f"{server.url}/predict", json=[{"x": 1.0}],
                            headers={"x-request-id": "early-1"})
        body = assert_envelope(answer, 503, "NOT_READY", "early-1")
        assert "not loaded yet" in body["error"] and "the store is down" in body["error"]
    finally:
        server.stop()


def _store_down():
    raise RuntimeError("the store is down")
