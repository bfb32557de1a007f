"""The feature store through the team server: definitions whose source is a dataset version
are applied, listed and shown, materialized on the server, and read online (``POST
/api/v1/features/online`` and ``gannet.features.online`` with ``GANNET_URI``) with the
values an embedded read gives, and training sets are built there from entity rows sent as
Parquet; a source naming a path on the server is refused; readers
read, editors apply and materialize."""

import contextlib
import json
import os
from datetime import datetime, timedelta

import pandas as pd
import pytest
from test_auth import team  # noqa: F401  (the fixture: users, projects, a server)
from typer.testing import CliRunner

from gannet.cli.app import app
from gannet.core.errors import InvalidArgument, NotFound, PermissionDenied
from gannet.remote import RemoteServices

T0 = datetime(2026, 1, 1)
DAY = timedelta(days=1)
FEATURES = ["churn_stats:orders_30d", "churn_stats:spend_30d"]
DEFINITIONS = """
entities:
  - name: customer
    join_keys: [customer_id]
feature_views:
  - name: churn_stats
    entities: [customer]
    source: {source}
    features: [orders_30d, spend_30d]
    ttl: 0
"""


@pytest.fixture
def stats(tmp_path):
    path = tmp_path / "churn_stats.parquet"
    pd.DataFrame({
        "customer_id": [1, 1, 2, 3],
        "event_timestamp": [T0, T0 + 3 * DAY, T0 + DAY, T0],
        "orders_30d": [10, 30, 5, 7],
        "spend_30d": [100.0, 300.0, 50.0, 70.0],
    }).to_parquet(path)
    return path


@contextlib.contextmanager
def _remote(settings):
    remote = RemoteServices(settings)
    try:
        yield remote
    finally:
        remote.close()


def test_definitions_materialization_and_online_values_through_the_server(
        open_server, services, settings, stats, tmp_path, monkeypatch):
    with _remote(settings.replace(uri=open_server, home=tmp_path / "client")) as remote:
        remote.data.add(stats, "churn-stats")
        with pytest.raises(InvalidArgument, match="must be a dataset version"):
            remote.features.apply(DEFINITIONS.format(source=stats))
        assert services.features.list_definitions() == []
        changes = remote.features.apply(DEFINITIONS.format(source="churn-stats@1"))
        assert [(c.kind, c.name, c.status) for c in changes] == [
            ("entity", "customer", "created"), ("feature_view", "churn_stats", "created")]
        assert remote.features.get_definition("churn_stats")["definition"]["features"] == {
            "orders_30d": "BIGINT", "spend_30d": "DOUBLE"}
        assert remote.features.staleness() == {"churn_stats": None}
        (done,) = remote.features.materialize(end=T0 + 2 * DAY)
        assert done.view == "churn_stats" and done.rows == 3
        rows = pd.DataFrame({"customer_id": [1, 2, 99]})
        got = remote.features.online(FEATURES, rows)
        pd.testing.assert_frame_equal(got, services.features.online(FEATURES, rows))
        assert got["orders_30d"].tolist()[:2] == [10, 5] and pd.isna(got["orders_30d"][2])
        assert remote.features.online("churn_stats:spend_30d", {"customer_id": [3]},
                                      output="dict") == {"customer_id": [3], "spend_30d": [70.0]}
        with pytest.raises(NotFound, match="orders_3d"):
            remote.features.online(["churn_stats:orders_3d"], rows)
        entity_df = pd.DataFrame({"customer_id": [1, 1, 2],
                                  "event_timestamp": [T0 + DAY, T0 + 4 * DAY, T0]})
        built = remote.features.training_set(entity_df, FEATURES)
        assert built["orders_30d"].tolist()[:2] == [10, 30]  # as it was then: no leak
        assert pd.isna(built["orders_30d"][2])  # customer 2's value came a day later
        pd.testing.assert_frame_equal(built, services.features.training_set(entity_df,
                                                                            FEATURES))
        with pytest.raises(InvalidArgument, match="event_timestamp"):
            remote.features.training_set(entity_df.drop(columns="event_timestamp"), FEATURES)

    monkeypatch.chdir(tmp_path)
    env = {k: None for k in os.environ if k.startswith("GANNET_")}
    env.update({"GANNET_URI": open_server, "GANNET_HOME": str(tmp_path / "cli"),
                "COLUMNS": "200"})
    (tmp_path / "features.yaml").write_text(DEFINITIONS.format(source="churn-stats@1")
                                            .replace("ttl: 0", "ttl: 30d"))
    for args in (["features", "diff", "features.yaml"], ["features", "apply", "features.yaml"],
                 ["features", "list"], ["features", "materialize"]):
        result = CliRunner().invoke(app, [*args, "--json"], env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        if args[1] == "apply":
            assert json.loads(result.stdout)[1]["status"] == "updated"
        if args[1] == "materialize":
            assert json.loads(result.stdout)[0]["rows"] == 1  # incremental: day 3's row
    assert services.features.get_definition("churn_stats")["version"] == 2


def test_online_requests_and_errors_in_the_envelope(http, services, stats):
    services.data.add(stats, "churn-stats")
    services.features.apply(DEFINITIONS.format(source="churn-stats@1"))
    services.features.materialize()
    answer = http.post("/api/v1/features/online", json={
        "features": ["churn_stats:orders_30d"], "entity_rows": [{"customer_id": 1},
                                                                {"customer_id": 2}]})
    assert answer.status_code == 200
    assert answer.json()["columns"] == {"customer_id": [1, 2], "orders_30d": [30, 5]}
    lacking = http.post("/api/v1/features/online", json={
        "features": ["churn_stats:orders_30d"], "entity_rows": [{"id": 1}]}).json()
    assert lacking["code"] == "INVALID_PARAMETER_VALUE" and "customer_id" in lacking["error"]
    empty = http.post("/api/v1/features/online", json={"features": [], "entity_rows": []})
    assert empty.status_code == 400 and empty.json()["code"] == "BAD_REQUEST"
    sneaky = http.post("/api/v1/features/apply", json={"definitions": "/etc/features.yaml"})
    assert sneaky.status_code == 400 and "/etc/features.yaml" not in json.dumps(
        services.features.list_definitions())
    missing = http.get("/api/v1/features/churn_stat").json()
    assert missing["code"] == "RESOURCE_DOES_NOT_EXIST" and "churn_stats" in missing["hint"]
    garbled = http.post("/api/v1/features/training-set", params={"features": "churn_stats:x"},
                        content=b"not parquet",
                        headers={"content-type": "application/vnd.apache.parquet"}).json()
    assert garbled["code"] == "INVALID_PARAMETER_VALUE" and "not a Parquet table" in garbled[
        "error"]
    paths = http.get("/openapi.json").json()["paths"]
    assert "OnlineRequest" in json.dumps(paths["/api/v1/features/online"]["post"]["requestBody"])
    assert "application/vnd.apache.parquet" in json.dumps(
        paths["/api/v1/features/training-set"]["post"]["requestBody"])


def test_readers_read_features_editors_apply_them(team, settings, services, stats,  # noqa: F811
                                                  tmp_path):
    with _remote(settings.replace(uri=team.url, token=team.alice, home=tmp_path / "a")) as alice, \
            _remote(settings.replace(uri=team.url, token=team.rita, home=tmp_path / "r")) as rita:
        alice.data.add(stats, "churn-stats")
        text = DEFINITIONS.format(source="churn-stats@1")
        with pytest.raises(PermissionDenied, match="editor role"):
            rita.features.apply(text)
        alice.features.apply(text)
        with pytest.raises(PermissionDenied, match="editor role"):
            rita.features.materialize()
        alice.features.materialize()
        assert rita.features.online(["churn_stats:orders_30d"], {"customer_id": [1]},
                                    output="dict")["orders_30d"] == [30]
        assert [d["name"] for d in rita.features.list_definitions()] == ["customer", "churn_stats"]
