"""``POST /explain`` and ``/v2/models/{name}/explain`` on a real server on 127.0.0.1:
per-feature contributions for the rows sent, bounded in rows (413) and time (503), in
their own threads so that predictions never wait for them."""

import threading
import time

import httpx
import pandas as pd
import pytest
from biased_credit import FEATURES, credit_data, save_credit_model
from server_fixtures import CliServer, LiveServer, make_settings

from gannet.bootstrap import build

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from sklearn.neighbors import KNeighborsClassifier

    from gannet.models.package import save_model

    folder = tmp_path_factory.mktemp("explain")
    found = build(make_settings(folder))
    found.registry.register_model(save_credit_model(folder / "gbm"), "credit")
    data = credit_data(500, seed=3)
    knn = KNeighborsClassifier(n_neighbors=25).fit(data[FEATURES], data["approved"])
    save_model(knn, folder / "knn", input_example=data[FEATURES].head(3))
    found.registry.register_model(folder / "knn", "knn")
    data.to_parquet(folder / "holdout.parquet")
    found.holdout = str(folder / "holdout.parquet")
    yield found
    found.close()


def _records(n, seed=5):
    return credit_data(n, seed=seed)[FEATURES].to_dict("records")


def test_a_tree_model_explains_the_rows_sent_within_its_bounds(services):

    model = services.registry.load_model("credit/1").raw
    with LiveServer(services, "credit/1") as server, httpx.Client(base_url=server.url,
                                                                   timeout=60) as client:
        one = client.post("/explain", json={"records": _records(1)})
        hundred = client.post("/explain", json=_records(100))
        too_many = client.post("/explain", json=_records(101))
        frame = pd.DataFrame(_records(2))
        v2 = client.post("/v2/models/credit/explain", json={"inputs": [
            {"name": c, "datatype": "FP64", "shape": [2], "data": frame[c].tolist()}
            for c in FEATURES]})
        versioned = client.post("/v2/models/credit/versions/1/explain", json=_records(3))
        predicted = client.post("/predict", json=_records(3))
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["method"] == "tree" and body["features"] == FEATURES
    assert body["model"] == "credit" and body["version"] == "1" and body["request_id"]
    row = body["contributions"][0]
    margin = model.decision_function(pd.DataFrame(_records(1)))[0]
    assert sum(row.values()) + body["base_value"] == pytest.approx(margin, abs=1e-6)
    assert hundred.status_code == 200 and len(hundred.json()["contributions"]) == 100
    assert too_many.status_code == 413
    assert too_many.json()["code"] == "REQUEST_TOO_LARGE"
    assert "at most 100 rows" in too_many.json()["error"]
    assert "serving_explain_max_rows" in too_many.json()["hint"]
    assert v2.status_code == 200, v2.text
    assert len(v2.json()["contributions"]) == 2
    assert versioned.status_code == 200 and len(versioned.json()["contributions"]) == 3
    assert predicted.status_code == 200


def test_a_model_needing_a_background_says_what_to_run_then_explains(services):
    with LiveServer(services, "knn/1") as server, httpx.Client(base_url=server.url,
                                                               timeout=60) as client:
        before = client.post("/explain", json=_records(1))
    assert before.status_code == 501
    assert "gannet models explain" in before.json()["error"]
    assert "permutation importance" in before.json()["hint"]

    services.rai.explain_model_version("knn/1", services.holdout, "approved", n_repeats=1,
                                       max_rows=100)
    with LiveServer(services, "knn/1", explain_timeout=0.001) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        slow = client.post("/explain", json=_records(50))
    assert slow.status_code == 503
    assert slow.json()["code"] == "TEMPORARILY_UNAVAILABLE"
    assert "0.001 s" in slow.json()["error"]

    with LiveServer(services, "knn/1", explain_timeout=120) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        answer = client.post("/explain", json=_records(2))
        assert answer.status_code == 200, answer.text
        assert answer.json()["method"] == "sampled"
        assert len(answer.json()["contributions"]) == 2
        _predictions_do_not_wait_for_explanations(client)


def _predictions_do_not_wait_for_explanations(client):
    """A prediction sent while a 100-row explanation runs is answered before it ends."""
    finished = {}

    def explain():
        done = client.post("/explain", json=_records(100, seed=9))
        finished["explain"] = (time.perf_counter(), done.status_code)

    thread = threading.Thread(target=explain)
    thread.start()
    time.sleep(0.05)  # the explanation is under way
    answered = []
    while thread.is_alive() and len(answered) < 20:
        assert client.post("/predict", json=_records(1)).status_code == 200
        answered.append(time.perf_counter())
    thread.join()
    explain_done, status = finished["explain"]
    assert status == 200
    assert answered, "the explanation ended before a prediction could be sent"
    assert answered[0] < explain_done


def test_gannet_serve_reads_the_explain_limits_from_the_settings(services):
    env = {"GANNET_SERVING_EXPLAIN_MAX_ROWS": "2"}
    with CliServer(services.settings, "credit/1", env=env) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        fine = client.post("/explain", json=_records(2))
        refused = client.post("/explain", json=_records(3))
        schema = client.get("/openapi.json").json()
    assert fine.status_code == 200, fine.text
    assert refused.status_code == 413 and "at most 2 rows" in refused.json()["error"]
    assert "/explain" in schema["paths"] and "/v2/models/{name}/explain" in schema["paths"]
