"""Request bodies over real HTTP: MLflow's /invocations, /ping and /health, CSV, gzip, and
Triton's binary tensor extension refused."""

import gzip

import httpx
import numpy as np
import pytest
from server_fixtures import (
    CollectingLog,
    LiveServer,
    register_breast_cancer,
    register_slow_model,
    v2_columns,
)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("scoring"))
    register_slow_model(found.settings, "mixed", example={"x": [1.0, 2.0], "city": ["a", "b"]})
    yield found
    found.services.close()


@pytest.fixture(scope="module")
def server(registered):
    with LiveServer(registered.services, "churn@champion") as live:
        yield live


@pytest.fixture(scope="module")
def mixed(registered):
    """A model with a number and a text column, logging what it is given, 2 KB bodies."""
    log = CollectingLog()
    with LiveServer(registered.services, "mixed/1", log=log, max_body_bytes=2000) as live:
        live.log = log
        yield live


# -- MLflow's scoring protocol --------------------------------------------------------------


def test_invocations_reads_every_mlflow_format(client, registered):
    rows = registered.X.iloc[20:26]
    expected = registered.expected(1, rows)
    bodies = {
        "dataframe_split": {"dataframe_split": rows.to_dict(orient="split")},  # with index
        "dataframe_records": {"dataframe_records": rows.to_dict(orient="records")},
        "instances": {"instances": rows.to_dict(orient="records")},
        "instances rows": {"instances": rows.to_numpy().tolist()},
        "inputs": {"inputs": rows.to_dict(orient="list"), "params": {"unused": 1}},
        "inputs rows": {"inputs": rows.to_numpy().tolist()},
    }
    for what, body in bodies.items():
        answer = client.post("/invocations", json=body)
        assert answer.status_code == 200, (what, answer.text)
        assert answer.json() == {"predictions": expected}, what
        assert answer.headers["x-model-name"] == "churn"
        assert answer.headers["x-model-version"] == "1"
    csv = client.post("/invocations", content=rows.to_csv(index=False).encode(),
                      headers={"content-type": "text/csv"})
    assert csv.status_code == 200, csv.text
    assert csv.json() == {"predictions": expected}


def test_mlflows_own_client_scores_and_waits_for_ping(server, registered):
    client = pytest.importorskip("mlflow.pyfunc.scoring_server.client")
    scoring = client.ScoringServerClient("127.0.0.1", server.port)
    scoring.wait_server_ready(timeout=10)
    rows = registered.X.iloc[:7]
    answer = scoring.invoke(rows)  # what mlflow sends: dataframe_split with its index
    assert np.asarray(answer.get_predictions()).ravel().tolist() == registered.expected(1, rows)


@pytest.mark.parametrize(("body", "status", "code", "words"), [
    ([{"mean radius": 1.0}], 400, "BAD_REQUEST", "this one is a list"),
    ({"dataframe_records": [], "instances": []}, 400, "BAD_REQUEST",
     "'dataframe_records', 'instances'"),
    ({"records": []}, 400, "BAD_REQUEST", "exactly one of dataframe_split"),
    ({"dataframe_records": [{"mean radius": 1.0}]}, 400, "INVALID_PARAMETER_VALUE",
     "missing columns 'mean texture'"),
])
def test_invocations_errors_have_mlflows_shape(client, body, status, code, words):
    answer = client.post("/invocations", json=body, headers={"x-request-id": "mlf-1"})
    assert answer.status_code == status
    doc = answer.json()
    assert doc["error_code"] == code and words in doc["message"], doc
    assert doc["request_id"] == "mlf-1" and "hint" in doc


def test_invocations_refuses_other_content_types_as_mlflow_does(client, registered):
    body = registered.X.iloc[:1].to_json(orient="records")
    answer = client.post("/invocations", content=body, headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    assert answer.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json" in answer.json()["hint"]
    latin = client.post("/invocations", content=b"{}", headers={
        "content-type": "application/json; charset=latin-1"})
    assert latin.status_code == 415 and "latin-1" in latin.json()["message"]
    broken = client.post("/invocations", content=b"{", headers={
        "content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error_code"] == "BAD_REQUEST"


def test_ping_and_health_answer_when_ready(client):
    for path in ("/ping", "/health"):  # (503 before: test_server's readiness test)
        assert client.get(path).status_code == 200


# -- CSV ------------------------------------------------------------------------------------


def test_predict_takes_csv_like_json(client, registered):
    rows = registered.X.iloc[30:40]
    answer = client.post("/predict?probabilities=true", content=rows.to_csv(index=False),
                         headers={"content-type": "text/csv; charset=utf-8"})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["predictions"] == registered.expected(1, rows)
    np.testing.assert_allclose(doc["probabilities"], registered.models[1].predict_proba(rows))


def test_csv_text_columns_stay_text(mixed):
    answer = httpx.post(f"{mixed.url}/predict", content=b"x,city\n2.5,007\n-3,NA\n",
                        headers={"content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == [5.0, -6.0]
    logged = mixed.log.predictions[-1].inputs
    assert list(logged["city"]) == ["007", "NA"]  # the column lists, as the log gets them


@pytest.mark.parametrize(("csv", "status", "words"), [
    (b"x,city\n2.5,a\n,b\n", 422, "CSV column 'x' has an empty value in row 2"),
    (b"x,city\n", 422, "has a header but no rows"),
    (b"", 400, "the CSV body is empty"),
    (b'x,city\n1,"a\n', 400, "not valid CSV"),
    (b"x,town\n1,a\n", 422, "city"),
])
def test_bad_csv_is_refused_naming_what_is_wrong(mixed, csv, status, words):
    answer = httpx.post(f"{mixed.url}/predict", content=csv, headers={"content-type": "text/csv"})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]


# -- gzip -----------------------------------------------------------------------------------


def test_gzip_bodies_on_every_post(client, registered):
    rows = registered.X.iloc[:3]
    packed = {"content-encoding": "gzip", "content-type": "application/json"}

    def gz(doc):
        return gzip.compress(httpx.Request("POST", "/", json=doc).content)

    predict = client.post("/predict", content=gz(rows.to_dict("records")), headers=packed)
    assert predict.json()["predictions"] == registered.expected(1, rows)
    invocations = client.post("/invocations", headers=packed,
                              content=gz({"dataframe_records": rows.to_dict("records")}))
    assert invocations.json() == {"predictions": registered.expected(1, rows)}
    infer = client.post("/v2/models/churn/infer", headers=packed,
                        content=gz({"inputs": v2_columns(rows)}))
    assert infer.status_code == 200, infer.text
    csv = client.post("/predict", content=gzip.compress(rows.to_csv(index=False).encode()),
                      headers={"content-type": "text/csv", "content-encoding": "gzip"})
    assert csv.json()["predictions"] == registered.expected(1, rows)
    feedback = client.post("/feedback", content=gz({"request_id": "r", "label": 1}),
                           headers=packed)
    assert feedback.status_code == 501  # read, then refused: this server keeps no log


def test_a_gzip_bomb_is_413_and_bad_gzip_400(mixed):
    bomb = gzip.compress(b"[" + b" " * 1_000_000 + b"]")  # 1 MB of JSON in about 1 KB
    assert len(bomb) < 2000
    answer = httpx.post(f"{mixed.url}/predict", content=bomb,
                        headers={"content-encoding": "gzip"})
    assert answer.status_code == 413
    assert "decompresses to over the limit of 2000 bytes" in answer.json()["error"]
    broken = httpx.post(f"{mixed.url}/predict", content=b"not gzip at all",
                        headers={"content-encoding": "gzip"})
    assert broken.status_code == 400 and "not valid gzip" in broken.json()["error"]
    cut = httpx.post(f"{mixed.url}/predict", content=gzip.compress(b'[{"x": 1.0}]')[:-12],
                     headers={"content-encoding": "gzip"})
    assert cut.status_code == 400 and "cut short" in cut.json()["error"]
    other = httpx.post(f"{mixed.url}/predict", content=b"[]", headers={"content-encoding": "br"})
    assert other.status_code == 415 and other.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


# -- Triton's binary tensor extension ---------------------------------------------------------


def test_the_binary_tensor_header_is_400_naming_the_extension(client, registered):
    doc = {"inputs": v2_columns(registered.X.iloc[:1])}
    answer = client.post("/v2/models/churn/infer", json=doc,
                         headers={"inference-header-content-length": "12"})
    assert answer.status_code == 400
    body = answer.json()
    assert "binary tensor extension" in body["error"] and "JSON 'data'" in body["hint"]
    doc["outputs"] = [{"name": "predict", "parameters": {"binary_data": True}}]
    refused = client.post("/v2/models/churn/infer", json=doc)
    assert refused.status_code == 400 and "output 'predict'" in refused.json()["error"]


def test_tritonclient_with_binary_data_gets_the_refusal(server, registered):
    tritonclient = pytest.importorskip("tritonclient.http")
    from tritonclient.utils import InferenceServerException

    rows = registered.X.iloc[:2]
    triton = tritonclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    try:
        inputs = []
        for column in rows.columns:
            tensor = tritonclient.InferInput(column, [len(rows)], "FP64")
            tensor.set_data_from_numpy(rows[column].to_numpy())  # binary, tritonclient's default
            inputs.append(tensor)
        with pytest.raises(InferenceServerException, match="binary tensor extension"):
            triton.infer("churn", inputs)
    finally:
        triton.close()
