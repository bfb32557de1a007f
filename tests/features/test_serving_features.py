"""A deployment that names features, served by a real inference server on 127.0.0.1: the
requests carry only entity keys (and the one column the features do not give), the server
looks the features up in the online store (SQLite, then Redis), the inference log keeps
what the model saw, and a store that is down is a 503 or, where allowed, the defaults."""

import json
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "serving"))
sys.path.insert(0, str(Path(__file__).parents[1] / "serving" / "server"))
from server_fixtures import LiveServer

from gannet.core.errors import InvalidArgument, NotFound
from tests.features.feature_data import T0

FEATURES = ["churn_stats:orders_30d", "churn_stats:spend_30d"]
# what the online store holds after materializing (the newest value per customer)
ONLINE = {1: (30, 300.0), 2: (5, 50.0), 3: (7, 70.0)}


def _train_and_register(services, settings) -> object:
    """A tree over (orders_30d, spend_30d, tenure), trained on a point-in-time training
    set and registered as ``churn``; the fitted model."""
    from sklearn.tree import DecisionTreeClassifier

    import gannet
    from gannet.client import fluent

    entity_df = pd.DataFrame({"customer_id": [1, 1, 2, 3, 1, 2],
                              "event_timestamp": [T0 + pd.Timedelta(hours=h)
                                                  for h in (1, 80, 30, 2, 90, 40)],
                              "tenure": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                              "left": [0, 1, 0, 0, 1, 0]})
    frame = services.features.training_set(entity_df, FEATURES)
    X = frame[["orders_30d", "spend_30d", "tenure"]]
    model = DecisionTreeClassifier(random_state=0).fit(X, frame["left"])
    gannet.configure(settings)
    try:
        with gannet.start_run(log_environment=False) as run:
            gannet.log_model(model, "model", input_example=X.head(2))
        gannet.register_model(run.info.run_id, "churn")
    finally:
        fluent.get_client().close()
        fluent._client = None
        fluent._experiment_id = None
    return model


@pytest.fixture
def served(online_settings, definitions_file):
    from gannet.bootstrap import build

    services = build(online_settings)
    services.features.apply(definitions_file.read_text().replace("ttl: 2d", "ttl: 0"))
    services.features.materialize()
    model = _train_and_register(services, online_settings)
    services.deployments.create_deployment(
        "churn-api", "churn", {"churn/1": 1}, features=FEATURES,
        feature_defaults={"orders_30d": 0, "spend_30d": 0.0})
    yield services, model
    services.close()


def _expected(model, rows: list[tuple[int, float]]) -> list:
    frame = pd.DataFrame([(*ONLINE.get(c, (0, 0.0)), t) for c, t in rows],
                         columns=["orders_30d", "spend_30d", "tenure"])
    return model.predict(frame).tolist()


def test_a_request_with_entity_keys_gets_its_features(served, tmp_path):
    from gannet.serving.log.reader import InferenceLog
    from gannet.serving.log.writer import InferenceLogWriter

    services, model = served
    root = tmp_path / "inference-log"
    writer = InferenceLogWriter(root, flush_interval=3600)
    with LiveServer(services, "churn-api", log=writer) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        one = client.post("/predict", json=[{"customer_id": 1, "tenure": 2.0}])
        assert one.status_code == 200, one.text
        assert one.json()["predictions"] == _expected(model, [(1, 2.0)])
        rows = [(2, 3.0), (3, 9.0), (99, 1.0)]  # 99 is unknown: the defaults
        many = client.post("/predict", json={"columns": {
            "customer_id": [c for c, _ in rows], "tenure": [t for _, t in rows]}})
        assert many.status_code == 200, many.text
        assert many.json()["predictions"] == _expected(model, rows)
        lacking = client.post("/predict", json=[{"tenure": 1.0}])
        assert lacking.status_code == 422 and "customer_id" in lacking.json()["error"]
        metrics = client.get("/metrics").text
        assert 'gannet_feature_staleness_seconds{view="churn_stats"}' in metrics
        record = client.get("/openapi.json").json()["components"]["schemas"]["Record"]
        assert record["required"] == ["customer_id", "tenure"]  # what a request sends
        inputs = client.get("/v2/models/churn").json()["inputs"]
        assert [i["name"] for i in inputs] == ["customer_id", "tenure"]
        assert writer.flush(timeout=60)
    logged = InferenceLog(root).query(
        "churn-api", "SELECT * FROM predictions ORDER BY timestamp, row")
    columns = set(logged.columns)
    assert {"input.customer_id", "input.tenure", "input.orders_30d",
            "input.spend_30d"} <= columns, columns  # what the model saw, for the monitors
    assert logged["input.orders_30d"].tolist() == [30, 5, 7, 0]


def test_an_online_store_that_is_down(served, tmp_path):
    """Strict: 503 naming the store, counted; lenient: the defaults, counted."""
    from gannet.bootstrap import build

    services, model = served
    if services.settings.features_online_url.startswith("redis"):
        url = "redis://127.0.0.1:1/0"  # nothing listens there
    else:
        (tmp_path / "a-file").write_text("")
        url = f"sqlite:///{tmp_path / 'a-file' / 'online.db'}"  # cannot be opened
    down = build(services.settings.replace(features_online_url=url))
    try:
        with LiveServer(down, "churn-api") as server, \
                httpx.Client(base_url=server.url, timeout=30) as client:
            refused = client.post("/predict", json=[{"customer_id": 1, "tenure": 2.0}])
            assert refused.status_code == 503, refused.text
            assert "online store" in refused.json()["error"]
            down.deployments.set_deployment_features(
                "churn-api", FEATURES, on_unavailable="defaults",
                defaults={"orders_30d": 0, "spend_30d": 0.0})
            answered = _eventually_ok(client, {"customer_id": 1, "tenure": 2.0})
            assert answered["predictions"] == _expected(model, [(99, 2.0)])
            metrics = client.get("/metrics").text
    finally:
        down.close()
    assert 'gannet_feature_lookup_failures_total{outcome="unavailable"}' in metrics
    assert 'gannet_feature_lookup_failures_total{outcome="defaults"}' in metrics


def _eventually_ok(client, record, timeout: float = 30.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        answer = client.post("/predict", json=[record])
        if answer.status_code == 200 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text
            return answer.json()
        time.sleep(0.1)


def test_a_deployment_names_features_that_exist(served):
    services, _ = served
    with pytest.raises(NotFound, match="orders_3d") as caught:
        services.deployments.set_deployment_features("churn-api", ["churn_stats:orders_3d"])
    assert "churn_stats:orders_30d" in caught.value.hint
    with pytest.raises(InvalidArgument, match="on_unavailable"):
        services.deployments.set_deployment_features("churn-api", FEATURES,
                                                     on_unavailable="ignore")
    with pytest.raises(InvalidArgument, match="tenure"):
        services.deployments.set_deployment_features("churn-api", FEATURES,
                                                     defaults={"tenure": 1.0})
    state = services.deployments.set_deployment_features("churn-api", None)
    assert state.features == () and state.revision == 2
    assert services.deployments.get_deployment_history("churn-api")[1].features == \
        tuple(FEATURES)


def test_on_demand_features_are_served_from_request_fields(served):
    """A deployment with an on-demand feature: the request gives the entity key and the
    request field it reads; the server computes it from the stored features."""
    from sklearn.tree import DecisionTreeClassifier

    import gannet
    from gannet.client import fluent
    from gannet.features import OnDemandFeatureView
    from tests.features.on_demand_functions import spend_per_order

    services, _ = served
    services.features.apply([OnDemandFeatureView(
        "order_value", ["churn_stats:orders_30d", "churn_stats:spend_30d", "amount"],
        spend_per_order, {"spend_per_order": "float", "amount_ratio": "float"})])
    wanted = ["churn_stats:orders_30d", "order_value:amount_ratio"]
    rows = pd.DataFrame({"customer_id": [1, 1, 2, 3], "amount": [5.0, 40.0, 5.0, 30.0],
                         "event_timestamp": [T0 + pd.Timedelta(hours=h) for h in (80, 90, 30, 2)],
                         "left": [0, 1, 0, 1]})
    frame = services.features.training_set(rows, wanted)
    X = frame[["orders_30d", "amount_ratio"]]
    model = DecisionTreeClassifier(random_state=0).fit(X, frame["left"])
    gannet.configure(services.settings)
    try:
        with gannet.start_run(log_environment=False) as run:
            gannet.log_model(model, "model", input_example=X.head(2))
        gannet.register_model(run.info.run_id, "ratio")
    finally:
        fluent.get_client().close()
        fluent._client = None
        fluent._experiment_id = None
    services.deployments.create_deployment("ratio-api", "ratio", {"ratio/1": 1},
                                           features=wanted)
    with LiveServer(services, "ratio-api") as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/predict", json=[{"customer_id": 1, "amount": 40.0},
                                               {"customer_id": 3, "amount": 30.0}])
        assert answer.status_code == 200, answer.text
        expected = model.predict(pd.DataFrame({"orders_30d": [30, 7],
                                               "amount_ratio": [4.0, 3.0]}))
        assert answer.json()["predictions"] == expected.tolist()
        lacking = client.post("/predict", json=[{"customer_id": 1}])
        assert lacking.status_code == 422 and "amount" in lacking.json()["error"]


def test_deployment_features_on_the_command_line(served, gannet):
    created = gannet("deployments", "create", "cli-api", "--model", "churn", "--route",
                     "churn/1", "--features", "churn_stats:orders_30d,churn_stats:spend_30d",
                     "--on-unavailable", "defaults", "--default", "orders_30d=0", "--json")
    assert created.exit_code == 0, created.output
    state = json.loads(created.output)
    assert state["features"] == FEATURES and state["features_on_unavailable"] == "defaults"
    assert state["feature_defaults"] == [["orders_30d", 0]]
    shown = gannet("deployments", "show", "cli-api")
    assert "churn_stats:orders_30d" in shown.output and "store down: defaults" in shown.output
    cleared = gannet("deployments", "set-features", "cli-api")
    assert cleared.exit_code == 0 and "features -" in cleared.output
    wrong = gannet("deployments", "set-features", "cli-api", "--features", "churn_stats:order")
    assert wrong.exit_code != 0 and "churn_stats:orders_30d" in wrong.output


def test_a_view_applied_again_reaches_a_running_server(served, definitions_file):
    """A new version of a feature view the deployment reads (here a 1-day ttl, which
    makes January's values too old) is picked up without restarting: the defaults."""
    import time

    services, model = served
    with LiveServer(services, "churn-api") as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        before = server.host.switches
        services.features.apply(definitions_file.read_text().replace("ttl: 2d", "ttl: 1d"))
        deadline = time.monotonic() + 30
        while server.host.switches == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.host.switches > before, "the server kept the old definitions"
        answer = client.post("/predict", json=[{"customer_id": 1, "tenure": 2.0}])
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == _expected(model, [(99, 2.0)])
        served_now = server.host.table.served[("churn", 1)]
        assert served_now.codec.lookup.views["churn_stats"].ttl == 86400
