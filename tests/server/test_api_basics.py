"""The control plane's HTTP conventions over real HTTP: the one error envelope, request
ids, the body limit, health, readiness, metrics and the OpenAPI document."""

import pytest

from gannet.core.errors import AlreadyExists, NotFound


def test_experiments_round_trip_and_errors_come_in_the_one_envelope(http):
    made = http.post("/api/v1/experiments", json={"name": "team/churn", "tags": {"a": "1"}})
    assert made.status_code == 201
    experiment_id = made.json()["experiment_id"]
    found = http.get("/api/v1/experiments/by-name", params={"name": "team/churn"}).json()
    assert found["experiment"]["experiment_id"] == experiment_id
    assert found["experiment"]["tags"] == {"a": "1"}

    again = http.post("/api/v1/experiments", json={"name": "team/churn"})
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == AlreadyExists.code and "team/churn" in body["error"]
    assert body["request_id"] == again.headers["x-request-id"]

    missing = http.get("/api/v1/experiments/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, NotFound.code)


@pytest.mark.parametrize(
    ("content", "named"),
    [(b'{"nme": "x"}', "name"), (b'{"name": 3}', "name"), (b"{not json", "not valid JSON"),
     (b'["a list"]', "body")],
)
def test_bodies_that_do_not_validate_name_the_field(http, content, named):
    answer = http.post("/api/v1/experiments", content=content,
                       headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "BAD_REQUEST"
    assert named in answer.json()["error"]
    assert [e["name"] for e in http.get("/api/v1/experiments").json()["experiments"]] == [
        "Default"]


def test_unknown_routes_methods_and_oversized_bodies(http, services):
    assert http.get("/api/v1/nothing-here").json()["code"] == "ENDPOINT_NOT_FOUND"
    assert http.delete("/health").status_code == 405
    limit = services.settings.server_max_body
    big = http.post("/api/v1/experiments", content=b"x" * (limit + 1),
                    headers={"content-type": "application/json"})
    assert (big.status_code, big.json()["code"]) == (413, "REQUEST_TOO_LARGE")

    def chunks():  # no content-length: the limit holds for a streamed body too
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    streamed = http.post("/api/v1/experiments", content=chunks(),
                         headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_request_ids_are_kept_when_sane_and_made_otherwise(http):
    assert http.get("/health", headers={"x-request-id": "abc-123"}).headers[
        "x-request-id"] == "abc-123"
    made = http.get("/health", headers={"x-request-id": "bad id\twith tab"})
    assert made.headers["x-request-id"] != "bad id\twith tab"


def test_probes_metrics_and_docs(http):
    assert http.get("/health").json() == {"status": "ok"}
    assert http.get("/ready").json() == {"status": "ready"}
    http.get("/api/v1/experiments")
    scrape = http.get("/metrics").text
    assert 'route="/api/v1/experiments"' in scrape
    from openapi_spec_validator import validate

    document = http.get("/openapi.json").json()
    validate(document)
    assert "/api/v1/experiments" in document["paths"]
    page = http.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
