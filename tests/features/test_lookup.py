"""The inference server's feature lookup: a micro-batch's rows get their features, and an
online store that is down is a 503 or, where allowed, the defaults (counted)."""

import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument, InvalidInput, Unavailable

FEATURES = ["churn_stats:orders_30d", "churn_stats:spend_30d"]


@pytest.fixture
def store(online_settings, definitions_file):
    from gannet.bootstrap import build

    services = build(online_settings)
    services.features.apply(definitions_file.read_text().replace("ttl: 2d", "ttl: 0"))
    services.features.materialize()
    yield services.features
    services.close()


def test_a_micro_batch_gets_its_features(store):
    lookup = store.lookup(FEATURES, defaults={"orders_30d": 0})
    batch = pd.DataFrame({"customer_id": [1, 2, 99], "tenure": [3.0, 4.0, 5.0]})
    enriched = lookup.enrich(batch)
    assert list(enriched.columns) == ["customer_id", "tenure", "orders_30d", "spend_30d"]
    assert enriched["orders_30d"].tolist() == [30, 5, 0]  # 99 is unknown: its default
    assert enriched["spend_30d"].tolist()[:2] == [300.0, 50.0]
    assert pd.isna(enriched["spend_30d"].iloc[2])
    assert list(batch.columns) == ["customer_id", "tenure"]  # the request is not changed
    with pytest.raises(InvalidInput, match="customer_id") as caught:
        lookup.enrich(pd.DataFrame({"tenure": [1.0]}))
    assert caught.value.http_status == 422


def test_online_store_down(settings, definitions_file):
    from gannet.bootstrap import build

    services = build(settings.replace(features_online_url="redis://127.0.0.1:1/0"))
    services.features.apply(definitions_file)
    batch = pd.DataFrame({"customer_id": [1, 2]})
    strict = services.features.lookup(FEATURES)
    with pytest.raises(Unavailable) as caught:
        strict.enrich(batch)
    assert caught.value.http_status == 503
    lenient = services.features.lookup(FEATURES, on_unavailable="defaults",
                                       defaults={"orders_30d": -1})
    enriched = lenient.enrich(batch)
    assert enriched["orders_30d"].tolist() == [-1, -1] and lenient.unavailable == 1
    with pytest.raises(InvalidArgument, match="on_unavailable"):
        services.features.lookup(FEATURES, on_unavailable="ignore")
    services.close()
