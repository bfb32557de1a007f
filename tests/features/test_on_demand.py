"""On-demand features: one Python function, the same values in a training set (point in
time) and online, registered like any definition and read back in another store."""

import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument, NotFound
from gannet.features import OnDemandFeatureView
from tests.features.feature_data import DAY, T0
from tests.features.on_demand_functions import spend_per_order

ON_DEMAND = OnDemandFeatureView(
    "order_value", sources=["churn_stats:orders_30d", "churn_stats:spend_30d", "amount"],
    func=spend_per_order, schema={"spend_per_order": "float", "amount_ratio": "float"})


@pytest.fixture
def applied(features, definitions_file):
    features.apply(definitions_file.read_text().replace("ttl: 2d", "ttl: 0"))
    changes = features.apply([ON_DEMAND])
    assert [(c.kind, c.name, c.status) for c in changes] == [
        ("on_demand_view", "order_value", "created")]
    return features


def test_in_a_training_set_from_the_values_at_each_rows_time(applied):
    rows = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [20.0, 20.0, 5.0],
                         "event_timestamp": [T0 + DAY, T0 + 3 * DAY, T0 + 2 * DAY]})
    result = applied.training_set(rows, ["order_value:spend_per_order",
                                         "order_value:amount_ratio", "churn_stats:orders_30d"])
    assert list(result.columns) == ["customer_id", "amount", "event_timestamp", "orders_30d",
                                    "spend_per_order", "amount_ratio"]
    assert result["spend_per_order"].tolist() == [10.0, 10.0, 10.0]
    assert result["amount_ratio"].tolist() == [2.0, 2.0, 0.5]
    assert result["orders_30d"].tolist() == [10, 30, 5]
    arrow = applied.training_set(rows, ["order_value:amount_ratio"], output="arrow")
    assert arrow.column_names == ["customer_id", "amount", "event_timestamp", "amount_ratio"]
    with pytest.raises(InvalidArgument, match="amount"):
        applied.training_set(rows.drop(columns=["amount"]), ["order_value:amount_ratio"])


def test_online_the_same_function_on_the_newest_values(applied):
    applied.materialize()
    found = applied.online(["order_value:amount_ratio"],
                           [{"customer_id": 1, "amount": 20.0}, {"customer_id": 2,
                                                                  "amount": 20.0}])
    assert found.to_dict("list") == {"customer_id": [1, 2], "amount": [20.0, 20.0],
                                     "amount_ratio": [2.0, 2.0]}
    lookup = applied.lookup(["order_value:amount_ratio", "churn_stats:orders_30d"])
    assert lookup.inputs == ["customer_id", "amount"]
    assert lookup.values({"customer_id": [1, 3], "amount": [30.0, 10.0]}) == {
        "orders_30d": [30, 7], "amount_ratio": [3.0, 1.0]}


def test_registered_definitions_keep_the_function_by_name(applied, settings):
    from gannet.bootstrap import build

    shown = applied.get_definition("order_value")["definition"]
    assert shown["function"] == "tests.features.on_demand_functions:spend_per_order"
    assert shown["sources"] == ["churn_stats:orders_30d", "churn_stats:spend_30d", "amount"]
    other = build(settings)  # another store reads it back, and imports the function
    try:
        view = other.features.on_demand_views()["order_value"]
        assert view.resolved() is spend_per_order
    finally:
        other.close()
    assert applied.apply([ON_DEMAND])[0].status == "unchanged"


def test_bad_on_demand_definitions(features, definitions_file):
    features.apply(definitions_file)
    with pytest.raises(NotFound, match="orders_3d"):
        features.apply([OnDemandFeatureView("bad", ["churn_stats:orders_3d"],
                                            spend_per_order, ["x"])])
    with pytest.raises(InvalidArgument, match="no sources"):
        OnDemandFeatureView("bad", [], spend_per_order, ["x"])
    with pytest.raises(InvalidArgument, match="function"):
        OnDemandFeatureView("bad", ["amount"], None, ["x"])  # type: ignore[arg-type]
