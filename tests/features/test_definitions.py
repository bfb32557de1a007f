"""Registering definitions: versions, diffs, breaking changes, bad definitions."""

import pytest

from gannet.core.errors import InvalidArgument, NotFound
from gannet.features import Entity, FeatureView
from tests.features.feature_data import DEFINITIONS


def test_apply_registers_types_from_the_source_and_versions_changes(features, stats_parquet):
    customer = Entity("customer", join_keys=["customer_id"])
    view = FeatureView("churn_stats", entities=[customer], source=str(stats_parquet),
                       features=["orders_30d", "spend_30d"], ttl="2d", owner="growth")
    changes = features.apply([customer, view])
    assert [(c.kind, c.name, c.version, c.status) for c in changes] == [
        ("entity", "customer", 1, "created"), ("feature_view", "churn_stats", 1, "created")]
    shown = features.get_definition("churn_stats")
    assert shown["definition"]["features"] == {"orders_30d": "BIGINT", "spend_30d": "DOUBLE"}
    assert shown["definition"]["ttl"] == 2 * 86400
    assert [c.status for c in features.apply([customer, view])] == ["unchanged", "unchanged"]

    narrower = FeatureView("churn_stats", entities=["customer"], source=str(stats_parquet),
                           features={"orders_30d": "string"}, ttl="2d", owner="growth")
    (diff,) = features.apply([narrower], dry_run=True)
    assert diff.status == "updated" and diff.version == 2
    assert "feature spend_30d dropped" in diff.breaking
    assert "feature orders_30d retyped BIGINT -> VARCHAR" in diff.breaking
    assert features.get_definition("churn_stats")["version"] == 1  # a diff registers nothing
    features.apply([narrower])
    assert [v["version"] for v in features.get_definition("churn_stats")["versions"]] == [2, 1]


def test_yaml_definitions_and_list(features, definitions_file):
    features.apply(definitions_file)
    listed = {(r["kind"], r["name"]) for r in features.list_definitions()}
    assert listed == {("entity", "customer"), ("feature_view", "churn_stats")}
    assert features.get_definition("churn_stats")["definition"]["tags"] == {"team": "growth"}


def test_bad_definitions_are_refused_and_nothing_is_stored(features, stats_parquet, tmp_path):
    customer = Entity("customer", "customer_id")
    missing_column = FeatureView("v", [customer], str(stats_parquet), ["orders_7d"])
    with pytest.raises(InvalidArgument, match="orders_7d"):
        features.apply([customer, missing_column])
    with pytest.raises(NotFound, match="entity 'driver'"):
        features.apply([FeatureView("v", ["driver"], str(stats_parquet), ["orders_30d"])])
    with pytest.raises(NotFound, match="does not exist"):
        features.apply([customer, FeatureView("v", [customer], str(tmp_path / "nope.parquet"),
                                              ["orders_30d"])])
    with pytest.raises(InvalidArgument, match="ttl"):
        FeatureView("v", [customer], str(stats_parquet), ["orders_30d"], ttl="soon")
    with pytest.raises(InvalidArgument, match="valid YAML"):
        features.apply("entities: [\n")
    assert features.list_definitions() == []
    with pytest.raises(NotFound, match="churn_stats"):
        features.get_definition("churn_stats")


def test_sql_source(features, stats_parquet):
    query = (f"SELECT customer_id, event_timestamp, orders_30d * 2 AS orders_x2 "
             f"FROM '{stats_parquet}'")
    features.apply([Entity("customer", "customer_id"),
                    FeatureView("doubled", ["customer"], query, ["orders_x2"])])
    import pandas as pd

    from tests.features.feature_data import DAY, T0

    rows = pd.DataFrame({"customer_id": [1], "event_timestamp": [T0 + 4 * DAY]})
    assert features.training_set(rows, ["doubled:orders_x2"])["orders_x2"].tolist() == [60]


def test_definitions_yaml_text(features, stats_parquet):
    features.apply(DEFINITIONS.format(source=stats_parquet))
    assert features.get_definition("customer")["definition"]["join_keys"] == ["customer_id"]


def test_a_dataset_version_source_goes_through_the_resolver(settings, services, stats_parquet):
    from gannet.core.errors import NotFound, NotSupported
    from gannet.features.service import FeatureStore

    view = FeatureView("churn_stats", ["customer"], "churn@3", ["orders_30d"])
    with pytest.raises(NotFound, match="no dataset named 'churn'"):  # bootstrap's resolver
        services.features.apply([Entity("customer", "customer_id"), view])
    with pytest.raises(NotSupported, match="churn@3"):  # a store with no resolver
        FeatureStore(services.metadata, settings).apply([Entity("customer", "customer_id"),
                                                         view])
    asked = []

    def resolve(ref: str) -> str:
        asked.append(ref)
        return str(stats_parquet)

    store = FeatureStore(services.metadata, settings, resolve_dataset=resolve)
    (_, change) = store.apply([Entity("customer", "customer_id"), view])
    assert change.status == "created" and asked == ["churn@3"]
    assert store.get_definition("churn_stats")["definition"]["source"] == "churn@3"
