"""Materialization into the online store and online reads, on SQLite and on Redis."""

import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument
from tests.features.feature_data import DAY, T0, stats_frame

FEATURES = ["churn_stats:orders_30d", "churn_stats:spend_30d"]


@pytest.fixture
def store(online_settings, definitions_file, stats_parquet):
    from gannet.bootstrap import build

    services = build(online_settings)
    # a view with no ttl, so values from 2026 are served at any later time
    text = definitions_file.read_text().replace("ttl: 2d", "ttl: 0")
    services.features.apply(text)
    yield services.features
    services.close()


def test_materialize_then_online(store):
    (first,) = store.materialize(end=T0 + 2 * DAY)
    assert first.rows == 3 and first.after_us is None
    rows = [{"customer_id": 1}, {"customer_id": 2}, {"customer_id": 99}, {"customer_id": 1}]
    got = store.online(FEATURES, rows)
    assert list(got.columns) == ["customer_id", "orders_30d", "spend_30d"]
    assert got["orders_30d"].tolist()[:2] == [10, 5]  # day 3's value is after the end
    assert got["orders_30d"].isna().tolist() == [False, False, True, False]
    # incremental: from where the last run ended, so only customer 1's day-3 row
    (second,) = store.materialize()
    assert second.after_us == first.until_us and second.rows == 1
    assert store.online(["churn_stats:orders_30d"], {"customer_id": [1, 3]},
                        output="dict")["orders_30d"] == [30, 7]
    age = store.staleness()["churn_stats"]
    assert age is not None and age >= (pd.Timestamp.now() - pd.Timestamp(T0 + 3 * DAY)
                                       ).total_seconds() - 5


def test_a_backfill_never_overwrites_fresher_values(store):
    store.materialize()
    store.materialize(start=T0 - DAY, end=T0 + 2 * DAY)  # older values, explicitly
    assert store.online(["churn_stats:orders_30d"], [{"customer_id": 1}])["orders_30d"][0] == 30


def test_online_for_many_entities(store, stats_parquet, tmp_path):
    frame = stats_frame()
    many = pd.DataFrame({"customer_id": range(1000, 3000), "event_timestamp": T0,
                         "orders_30d": range(2000), "spend_30d": 1.5})
    pd.concat([frame, many]).to_parquet(stats_parquet)
    store.materialize()
    ids = list(range(2999, 999, -1))
    got = store.online(FEATURES, pd.DataFrame({"customer_id": ids}))
    assert got["orders_30d"].tolist() == [i - 1000 for i in ids]


def test_online_errors(store):
    with pytest.raises(InvalidArgument, match="customer_id"):
        store.online(FEATURES, [{"user": 1}])
    with pytest.raises(InvalidArgument, match="start"):
        store.materialize(start=T0 + DAY, end=T0)


def test_redis_down_is_a_clear_unavailable(settings, definitions_file):
    from gannet.bootstrap import build
    from gannet.core.errors import Unavailable

    services = build(settings.replace(features_online_url="redis://127.0.0.1:1/0"))
    services.features.apply(definitions_file)
    with pytest.raises(Unavailable, match="127.0.0.1:1"):
        services.features.online(FEATURES, [{"customer_id": 1}])
    services.close()
