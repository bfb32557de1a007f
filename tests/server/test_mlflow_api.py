"""MLflow's REST API on a Gannet server, over real HTTP: the JSON shapes MLflow's clients
parse, its error shape, both prefixes, the artifact proxy (streamed, path traversal
refused), logged models, paging, and what the registry answers."""

import os

import httpx
import pytest

from gannet.bootstrap import build
from gannet.core.digests import digest_bytes
from gannet.testing.server import running_server

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def run(http):
    """(experiment id, run id) of a new run."""
    return _run(http)


def _run(http):
    experiment_id = http.post(f"{API}/experiments/create", json={"name": "shapes"}).json()[
        "experiment_id"]
    made = http.post(f"{API}/runs/create", json={
        "experiment_id": experiment_id, "start_time": 1_700_000_000_000,
        "tags": [{"key": "mlflow.user", "value": "ana"}]}).json()["run"]
    return experiment_id, made["info"]["run_id"]


def test_runs_come_in_mlflow_shapes_on_both_prefixes(http, run):
    experiment_id, run_id = run
    assert http.post(f"{API}/runs/log-batch", json={
        "run_id": run_id, "params": [{"key": "lr", "value": "0.1"}],
        "metrics": [{"key": "loss", "value": "NaN", "timestamp": 5, "step": 1},
                    {"key": "acc", "value": 0.5, "timestamp": 5}],
        "tags": [{"key": "mlflow.runName", "value": "named-by-tag"}]}).json() == {}
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        got = http.get(f"{prefix}/runs/get", params={"run_uuid": run_id}).json()["run"]
        info = got["info"]
        assert info["run_id"] == info["run_uuid"] == run_id
        assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
        assert (info["lifecycle_stage"], info["status"], info["start_time"]) == (
            "active", "RUNNING", 1_700_000_000_000)
        assert info["run_name"] == "named-by-tag" and "end_time" not in info
        metrics = {m["key"]: m["value"] for m in got["data"]["metrics"]}
        assert metrics == {"loss": "NaN", "acc": 0.5}
        assert {"key": "lr", "value": "0.1"} in got["data"]["params"]
        assert {"key": "mlflow.runName", "value": "named-by-tag"} in got["data"]["tags"]
    ended = http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED",
                                                  "end_time": 1_700_000_001_000}).json()
    assert ended["run_info"]["status"] == "FINISHED"
    assert ended["run_info"]["end_time"] == 1_700_000_001_000


def test_errors_are_mlflows_shape_and_names(http, run):
    unknown = http.post(f"{API}/runs/not-a-thing", json={})
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND" and unknown.json()["message"]
    assert http.get("/api/2.0/mlflow/traces/get").json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert http.get("/api/3.0/mlflow/server-info").json()["workspaces_enabled"] is True
    missing = http.get(f"{API}/runs/get", params={"run_id": "f" * 32})
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    no_field = http.post(f"{API}/runs/log-metric", json={"run_id": run[1], "value": 1})
    assert (no_field.status_code, no_field.json()["error_code"]) == (
        400, "INVALID_PARAMETER_VALUE")
    assert "'key'" in no_field.json()["message"]
    wrong_type = http.post(f"{API}/runs/log-metric", json={"run_id": run[1], "key": "a",
                                                           "value": "high", "timestamp": 1})
    assert wrong_type.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    injected = http.post(f"{API}/runs/search", json={
        "experiment_ids": [run[0]], "filter": "params.x = 'a'; DROP TABLE runs; --'"})
    assert injected.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    http.post(f"{API}/experiments/create", json={"name": "dup"})
    dup = http.post(f"{API}/experiments/create", json={"name": "dup"})
    assert (dup.status_code, dup.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    http.post(f"{API}/runs/delete", json={"run_id": run[1]})
    deleted = http.post(f"{API}/runs/log-parameter", json={"run_id": run[1], "key": "k",
                                                           "value": "v"})
    assert (deleted.status_code, deleted.json()["error_code"]) == (
        400, "INVALID_PARAMETER_VALUE")  # not 5xx: the client would retry it
    assert http.get(f"{API}/runs/get", params={"run_id": run[1]}).json()["run"]["data"][
        "params"] == []


def test_metric_history_pages(http, run):
    points = [{"key": "loss", "value": float(i), "timestamp": 100 + i, "step": i}
              for i in range(5)]
    http.post(f"{API}/runs/log-batch", json={"run_id": run[1], "metrics": points})
    seen, token = [], None
    while True:
        params = {"run_id": run[1], "metric_key": "loss", "max_results": 2}
        if token:
            params["page_token"] = token
        page = http.get(f"{API}/metrics/get-history", params=params).json()
        seen += [m["step"] for m in page["metrics"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == [0, 1, 2, 3, 4]
    everything = http.get(f"{API}/metrics/get-history",
                          params={"run_id": run[1], "metric_key": "loss"}).json()
    assert [m["value"] for m in everything["metrics"]] == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.fixture
def small_body_server(settings):
    """A server whose JSON bodies may be 1 MiB at most."""
    services = build(settings.replace(server_max_body=1 << 20))
    with running_server(services) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, services
    services.close()


def test_the_artifact_proxy_streams_and_refuses_paths_outside(small_body_server):
    http, services = small_body_server
    experiment_id, run_id = _run(http)
    root = f"{PROXY}/{experiment_id}/{run_id}/artifacts"
    big = os.urandom(6 * 1024 * 1024 + 3)  # over the JSON limit, and over one read of the store

    def chunks():  # no content-length: streamed in pieces
        for start in range(0, len(big), 1 << 20):
            yield big[start:start + (1 << 20)]

    assert http.put(f"{root}/data/big.bin", content=chunks()).json() == {}
    assert http.put(f"{root}/data/small.txt", content=b"hello").status_code == 200
    files = services.tracking.artifact_files(run_id, "data")
    assert {(p, d) for p, d, _ in files} == {("data/big.bin", digest_bytes(big)),
                                             ("data/small.txt", digest_bytes(b"hello"))}
    got = http.get(f"{root}/data/big.bin")
    assert got.content == big and got.headers["content-length"] == str(len(big))
    listed = http.get(PROXY, params={"path": f"{experiment_id}/{run_id}/artifacts/data"}).json()
    assert listed == {"files": [{"path": "big.bin", "is_dir": False, "file_size": len(big)},
                                {"path": "small.txt", "is_dir": False, "file_size": 5}]}
    assert http.get(PROXY, params={"path": f"{experiment_id}/{run_id}/artifacts/data/small.txt"}
                    ).json() == {"files": []}  # a file lists nothing: how the client tells
    tracking_side = http.get(f"{API}/artifacts/list", params={"run_id": run_id}).json()
    assert tracking_side["files"] == [{"path": "data", "is_dir": True}]

    for bad in ("%2E%2E/%2E%2E/etc/passwd", "data/..%2F..%2Fescape", "data%5Cwin.txt",
                "data/%00nul"):
        refused = http.put(f"{root}/{bad}", content=b"x")
        assert refused.status_code == 400, bad
        assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert http.get(PROXY, params={"path": "/etc"}).status_code == 400
    assert http.put(f"{PROXY}/{experiment_id}/elsewhere.txt", content=b"x").status_code == 400
    assert len(services.tracking.artifact_files(run_id, "")) == 2

    assert http.delete(f"{root}/data/small.txt").json() == {}
    assert [p for p, _, _ in services.tracking.artifact_files(run_id, "")] == ["data/big.bin"]
    assert http.get(f"{root}/data/small.txt").json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_logged_models_are_made_uploaded_finalized_and_found(http, run):
    experiment_id, run_id = run
    made = http.post(f"{API}/logged-models", json={
        "experiment_id": experiment_id, "name": "model", "source_run_id": run_id,
        "params": [{"key": "C", "value": "1"}], "tags": [{"key": "flavor", "value": "x"}]}
    ).json()["model"]
    model_id = made["info"]["model_id"]
    assert made["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert made["info"]["artifact_uri"] == (
        f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts")
    assert made["data"]["params"] == [{"key": "C", "value": "1"}]
    root = f"{PROXY}/{experiment_id}/models/{model_id}/artifacts"
    http.put(f"{root}/MLmodel", content=b"flavors: {}\n")
    http.put(f"{root}/sub/model.bin", content=b"\x00\x01")
    listed = http.get(f"{API}/logged-models/{model_id}/artifacts/directories").json()
    assert [f["path"] for f in listed["files"]] == ["MLmodel", "sub"]
    assert http.get(f"{root}/sub/model.bin").content == b"\x00\x01"
    done = http.patch(f"{API}/logged-models/{model_id}", json={
        "model_id": model_id, "status": "LOGGED_MODEL_READY"}).json()["model"]
    assert done["info"]["status"] == "LOGGED_MODEL_READY"
    http.patch(f"{API}/logged-models/{model_id}/tags", json={
        "tags": [{"key": "mlflow.modelVersions", "value": "[]"}]})
    found = http.post(f"{API}/logged-models/search", json={
        "experiment_ids": [experiment_id], "filter": "name = 'model'"}).json()["models"]
    assert [m["info"]["model_id"] for m in found] == [model_id]
    assert {"key": "mlflow.modelVersions", "value": "[]"} in found[0]["info"]["tags"]
    outputs = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["outputs"]
    assert outputs == {"model_outputs": [{"model_id": model_id, "step": 0}]}
    assert http.post(f"{API}/logged-models/search", json={
        "experiment_ids": [experiment_id], "filter": "name = 'other'"}).json() == {"models": []}
    assert http.delete(f"{API}/logged-models/{model_id}/tags/flavor").json() == {}
    assert http.delete(f"{API}/logged-models/{model_id}").json() == {}
    assert http.get(f"{API}/logged-models/{model_id}").status_code == 404


def test_registry_answers_and_what_it_refuses(http, services):
    for name in ("churn", "churn-eu", "fraud"):
        http.post(f"{API}/registered-models/create", json={
            "name": name, "tags": [{"key": "team", "value": "risk" if "churn" in name else "x"}]})
    first = http.get(f"{API}/registered-models/search", params={
        "filter": "tags.team = 'risk'", "max_results": 1}).json()
    assert [m["name"] for m in first["registered_models"]] == ["churn"]
    second = http.get(f"{API}/registered-models/search", params={
        "filter": "tags.team = 'risk'", "max_results": 1, "page_token": first["next_page_token"]}
    ).json()
    assert [m["name"] for m in second["registered_models"]] == ["churn-eu"]
    assert "next_page_token" not in second
    assert http.get(f"{API}/registered-models/search", params={"filter": "metrics.x > 1"}
                    ).json()["error_code"] == "INVALID_PARAMETER_VALUE"

    http.post(f"{API}/registered-models/set-tag", json={"name": "fraud", "key": "k",
                                                        "value": "v"})
    http.request("DELETE", f"{API}/registered-models/delete-tag",
                 json={"name": "fraud", "key": "team"})
    tags = http.get(f"{API}/registered-models/get", params={"name": "fraud"}).json()[
        "registered_model"]["tags"]
    assert tags == [{"key": "k", "value": "v"}]
    renamed = http.post(f"{API}/registered-models/rename", json={"name": "fraud",
                                                                 "new_name": "f2"})
    assert (renamed.status_code, renamed.json()["error_code"]) == (501, "NOT_IMPLEMENTED")
    not_logged = http.post(f"{API}/model-versions/create", json={
        "name": "churn", "source": "s3://bucket/elsewhere/model"})
    assert not_logged.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert http.request("DELETE", f"{API}/registered-models/delete", json={"name": "fraud"}
                        ).json() == {}
    assert [m.name for m in services.registry.search_registered_models()] == [
        "churn", "churn-eu"]


def test_refused_credentials_answer_in_mlflows_shape(services):
    from gannet.core.actor import Actor
    from gannet.core.errors import Unauthenticated

    def authenticate(authorization, address):
        if authorization != "Bearer good-token":
            raise Unauthenticated("a valid API token is required", "send Authorization")
        return Actor("ana", address, "token", roles={"default": "editor"})

    with running_server(services, auth=True, authenticate=authenticate) as url:
        anonymous = httpx.get(f"{url}{API}/experiments/search")
        assert anonymous.status_code == 401
        assert anonymous.json()["error_code"] == "UNAUTHENTICATED"
        assert "Bearer" in anonymous.headers["www-authenticate"]
        made = httpx.post(f"{url}{API}/runs/create", json={"experiment_id": "0"},
                          headers={"authorization": "Bearer good-token"}).json()["run"]
        assert made["info"]["user_id"] == "ana"  # the caller, whatever the body claims


def test_an_upload_cut_short_leaves_nothing(http, run, open_server, services):
    import socket
    from urllib.parse import urlparse

    experiment_id, run_id = run
    where = urlparse(open_server)
    with socket.create_connection((where.hostname, where.port)) as sock:
        sock.sendall(
            f"PUT {PROXY}/{experiment_id}/{run_id}/artifacts/cut.bin HTTP/1.1\r\n"
            f"Host: {where.netloc}\r\nContent-Length: {10 << 20}\r\n\r\n".encode()
            + b"z" * (2 << 20))
    assert http.put(f"{PROXY}/{experiment_id}/{run_id}/artifacts/whole.txt",
                    content=b"fine").status_code == 200
    assert [p for p, _, _ in services.tracking.artifact_files(run_id, "")] == ["whole.txt"]
