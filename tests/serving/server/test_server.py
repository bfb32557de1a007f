"""The inference server over real HTTP: V2, /predict, errors, headers, metrics, OpenAPI."""

import threading

import httpx
import numpy as np
import pytest
from server_fixtures import (
    CollectingLog,
    LiveServer,
    first_answer,
    register_breast_cancer,
    register_slow_model,
    v2_columns,
)
from waiting import wait_until


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("server"))
    register_slow_model(found.settings)
    yield found
    found.services.close()


@pytest.fixture(scope="module")
def server(registered):
    with LiveServer(registered.services, "churn@champion") as live:
        yield live


@pytest.fixture(scope="module")
def slow(registered):
    """The python-flavor model that raises on x = -1, behind a 2 KB body limit."""
    log = CollectingLog()
    with LiveServer(registered.services, "slow/1", log=log, max_body_bytes=2000) as live:
        live.log = log
        yield live


# -- health and metadata -----------------------------------------------------------------


def test_health_and_server_metadata(client):
    live = client.get("/v2/health/live")
    assert live.status_code == 200 and live.json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    meta = client.get("/v2").json()
    assert meta["name"] == "gannet" and meta["version"] and meta["extensions"] == []


def test_ready_is_503_until_the_models_are_loaded(registered):
    server = LiveServer(registered.services, "churn@champion")
    server.host.source = _never_ready  # the first plan fails: nothing loads
    server.thread.start()
    try:
        answer = first_answer(f"{server.url}/v2/health/ready")
        assert answer.status_code == 503 and answer.json()["ready"] is False
        assert answer.json()["code"] == "NOT_READY"
        assert httpx.get(f"{server.url}/v2/health/live").status_code == 200
        refused = httpx.post(f"{server.url}/predict", json=registered.records(0))
        assert refused.status_code == 503 and "not loaded" in refused.json()["error"]
        for path in ("/ping", "/health"):  # MLflow's and SageMaker's health checks
            answer = httpx.get(f"{server.url}{path}")
            assert answer.status_code == 503 and answer.json()["code"] == "NOT_READY"
        mlflow = httpx.post(f"{server.url}/invocations", json={"instances": [[1.0]]})
        assert mlflow.status_code == 503
        assert mlflow.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    finally:
        server.stop()


def _never_ready():
    raise RuntimeError("the store is down")


@pytest.mark.parametrize("path", ["/v2/models/churn", "/v2/models/churn/versions/1",
                                  "/v2/models/churn/versions/champion"])
def test_model_metadata_comes_from_the_signature(client, registered, path):
    meta = client.get(path).json()
    assert meta["name"] == "churn" and meta["versions"] == ["1"]
    assert meta["platform"] == "sklearn_skops"
    names = [i["name"] for i in meta["inputs"]]
    assert names == list(registered.X.columns)
    assert {(i["datatype"], tuple(i["shape"])) for i in meta["inputs"]} == {("FP64", (-1,))}
    assert meta["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]},
    ]
    ready = client.get(f"{path}/ready")
    assert ready.status_code == 200 and ready.json() == {"name": "churn", "ready": True}


# -- V2 inference ------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("path", ["/v2/models/churn/infer", "/v2/models/churn/versions/1/infer"])
def test_v2_infer_flat_and_nested(client, registered, nested, path):
    rows = registered.X.iloc[:5]
    answer = client.post(path, json={"id": "req-42", "inputs": v2_columns(rows, nested=nested)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_name"] == "churn" and body["model_version"] == "1"
    assert body["id"] == "req-42" and answer.headers["x-request-id"] == "req-42"
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["predict"]["data"] == registered.expected(1, rows)
    assert outputs["predict"]["shape"] == [5] and outputs["predict"]["datatype"] == "INT64"
    proba = np.array(outputs["predict_proba"]["data"]).reshape(outputs["predict_proba"]["shape"])
    np.testing.assert_allclose(proba, registered.models[1].predict_proba(rows))


def test_v2_infer_one_matrix_tensor_and_chosen_outputs(client, registered):
    rows = registered.X.iloc[:3]
    tensor = {"name": "input-0", "shape": [3, 30], "datatype": "FP32",
              "data": rows.to_numpy().ravel().tolist()}
    answer = client.post("/v2/models/churn/infer", json={
        "inputs": [tensor], "outputs": [{"name": "predict"}], "parameters": {"trace": "x"}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [o["name"] for o in body["outputs"]] == ["predict"]
    assert body["outputs"][0]["data"] == registered.expected(1, rows)
    assert body["parameters"] == {"trace": "x"}
    assert len(body["id"]) == 32 and body["id"] == answer.headers["x-request-id"]


def test_a_real_v2_client_library(server, registered):
    tritonclient = pytest.importorskip("tritonclient.http")
    rows = registered.X.iloc[:4]
    triton = tritonclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    try:
        assert triton.is_server_live() and triton.is_server_ready()
        assert triton.is_model_ready("churn")
        assert len(triton.get_model_metadata("churn")["inputs"]) == 30
        inputs = []
        for column in rows.columns:
            tensor = tritonclient.InferInput(column, [len(rows)], "FP64")
            tensor.set_data_from_numpy(rows[column].to_numpy(), binary_data=False)
            inputs.append(tensor)
        wanted = [tritonclient.InferRequestedOutput("predict", binary_data=False)]
        result = triton.infer("churn", inputs, outputs=wanted, request_id="triton-1")
        assert result.as_numpy("predict").tolist() == registered.expected(1, rows)
        assert result.get_response()["id"] == "triton-1"
    finally:
        triton.close()


# -- /predict --------------------------------------------------------------------------


def test_predict_records_and_columns(client, registered):
    rows = registered.X.iloc[10:17]
    expected = registered.expected(1, rows)
    for body in (rows.to_dict(orient="records"), {"records": rows.to_dict(orient="records")},
                 {"columns": rows.to_dict(orient="list")},
                 {"inputs": rows.to_dict(orient="list")},
                 {"dataframe_split": rows.to_dict(orient="split", index=False)}):
        answer = client.post("/predict", json=body)
        assert answer.status_code == 200, answer.text
        doc = answer.json()
        assert doc["predictions"] == expected
        assert "probabilities" not in doc
        assert doc["model"] == "churn" and doc["version"] == "1"
        assert doc["request_id"] == answer.headers["x-request-id"]


def test_predict_probabilities_on_request(client, registered):
    rows = registered.X.iloc[:4]
    for answer in (client.post("/predict?probabilities=true", json=rows.to_dict("records")),
                   client.post("/predict", json={"records": rows.to_dict("records"),
                                                 "probabilities": True})):
        doc = answer.json()
        np.testing.assert_allclose(doc["probabilities"], registered.models[1].predict_proba(rows))
        assert doc["predictions"] == registered.expected(1, rows)


def test_request_id_is_echoed_or_made(client, registered):
    echoed = client.post("/predict", json=registered.records(0), headers={"x-request-id": "abc-1"})
    assert echoed.headers["x-request-id"] == "abc-1" and echoed.json()["request_id"] == "abc-1"
    assert echoed.headers["x-model-name"] == "churn" and echoed.headers["x-model-version"] == "1"
    made = [client.post("/predict", json=registered.records(0)).headers["x-request-id"]
            for _ in range(2)]
    assert made[0] != made[1] and all(len(m) == 32 for m in made)
    failed = client.post("/predict", content=b"{", headers={"x-request-id": "bad-1"})
    assert failed.headers["x-request-id"] == "bad-1" and failed.json()["request_id"] == "bad-1"
    assert client.get("/v2/health/live").headers["x-model-version"] == "1"


# -- errors ----------------------------------------------------------------------------


def _record(registered, **changes):
    record = registered.records(0)[0]
    for key, value in changes.items():
        if value is None:
            del record[key.replace("_", " ")]
        else:
            record[key.replace("_", " ")] = value
    return record


def test_malformed_json_is_400(client):
    answer = client.post("/predict", content=b'{"records": [', headers={
        "content-type": "application/json"})
    assert answer.status_code == 400
    assert "not valid JSON" in answer.json()["error"]
    assert client.post("/v2/models/churn/infer", content=b"nope").status_code == 400


@pytest.mark.parametrize(("changes", "message"), [
    ({"mean_radius": None}, "input is missing column 'mean radius' (expected float64)"),
    ({"extra": 1.0}, "input has unexpected column 'extra'"),
    ({"mean_radius": "big"}, "column 'mean radius' has dtype"),
])
def test_what_the_signature_refuses_is_422_naming_the_column(client, registered, changes,
                                                             message):
    answer = client.post("/predict", json=[_record(registered, **changes)])
    assert answer.status_code == 422
    assert message in answer.json()["error"]


@pytest.mark.parametrize(("tensor", "message"), [
    ({"name": "mean radius", "shape": [3], "datatype": "FP64", "data": [1.0, 2.0]},
     "input 'mean radius' has 2 values but its shape [3] needs 3"),
    ({"name": "mean radius", "shape": [1], "datatype": "FP64", "data": ["x"]},
     "input 'mean radius' (FP64) has values like 'x'"),
    ({"name": "mean radius", "shape": [1], "datatype": "FP99", "data": [1]},
     "input 'mean radius' has datatype 'FP99'"),
])
def test_bad_v2_tensors_are_422(client, tensor, message):
    answer = client.post("/v2/models/churn/infer", json={"inputs": [tensor]})
    assert answer.status_code == 422
    assert message in answer.json()["error"]


def test_missing_v2_column_is_422_naming_it(client, registered):
    inputs = v2_columns(registered.X.iloc[:2])[1:]
    answer = client.post("/v2/models/churn/infer", json={"inputs": inputs})
    assert answer.status_code == 422
    assert "missing column 'mean radius'" in answer.json()["error"]


def test_unknown_model_or_version_is_404(client, registered):
    for path in ("/v2/models/other/infer", "/v2/models/churn/versions/9/infer",
                 "/v2/models/churn/versions/staging/infer"):
        answer = client.post(path, json={"inputs": v2_columns(registered.X.iloc[:1])})
        assert answer.status_code == 404, path
        assert answer.json()["error"]
    assert client.get("/v2/models/churn/versions/9").status_code == 404
    assert client.get("/nowhere").status_code == 404
    assert client.get("/predict").status_code == 405


def test_body_over_the_limit_is_413(slow):
    answer = httpx.post(f"{slow.url}/predict", json={"columns": {"x": [1.0] * 2000}})
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]


def test_a_model_that_raises_is_500_and_the_server_keeps_serving(slow):
    answer = httpx.post(f"{slow.url}/predict", json=[{"x": -1.0}],
                        headers={"x-request-id": "boom-1"})
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert "ValueError" in error and "x = -1" in error and "slow/1" in error
    assert answer.json()["request_id"] == "boom-1"
    fine = httpx.post(f"{slow.url}/predict", json=[{"x": 2.0}])
    assert fine.status_code == 200 and fine.json()["predictions"] == [4.0]


# -- metrics, OpenAPI, feedback -------------------------------------------------------------


def test_metrics_count_requests_errors_and_batches(client, registered):
    for _ in range(3):
        client.post("/predict", json=registered.records(0))
    client.post("/predict", json=[_record(registered, extra=1.0)])
    text = client.get("/metrics").text
    ok = 'gannet_requests_total{code="200",model="churn",route="/predict",version="1"}'
    assert ok in text
    assert 'gannet_request_errors_total{code="422",model="churn",route="/predict",version="1"}' \
        in text
    assert 'gannet_request_latency_seconds_bucket{le="0.005",model="churn",route="/predict"' in text
    assert 'gannet_batch_rows_count{model="churn",version="1"}' in text
    assert 'gannet_batch_queue_wait_seconds_count{model="churn",version="1"}' in text
    assert "gannet_requests_in_flight" in text
    assert "gannet_inference_log_dropped_total 0.0" in text
    count = float(next(line.split()[-1] for line in text.splitlines() if line.startswith(ok)))
    assert count >= 3


def test_openapi_schema_lists_the_signature_columns(client, registered):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    record = doc["components"]["schemas"]["Record"]
    assert list(record["properties"]) == list(registered.X.columns)
    assert record["properties"]["mean radius"] == {"type": "number"}
    assert set(record["required"]) == set(registered.X.columns)
    assert "/predict" in doc["paths"] and "/v2/models/{name}/infer" in doc["paths"]


def test_feedback_without_a_log_is_501(client):
    answer = client.post("/feedback", json={"request_id": "abc", "label": 1})
    assert answer.status_code == 501


def test_graceful_shutdown_answers_the_request_in_flight(registered):
    log = CollectingLog()
    server = LiveServer(registered.services, "slow/1", log=log).__enter__()
    answers = []
    request = threading.Thread(target=lambda: answers.append(
        httpx.post(f"{server.url}/predict", json=[{"x": -2.0}], timeout=30)))
    request.start()
    wait_until(lambda: any(s.batcher.busy for s in server.host.table.served.values()),
               what="the request reaching the model")  # which takes 1 s to answer it
    server.stop()
    request.join(30)
    assert answers and answers[0].status_code == 200
    assert answers[0].json()["predictions"] == [-4.0]
    assert log.closed and [p.request_id for p in log.predictions] == [
        answers[0].headers["x-request-id"]]
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{server.url}/predict", json=[{"x": 1.0}], timeout=2)
