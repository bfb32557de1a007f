"""Point-in-time correct training sets: never a value from after the row's time."""

import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument, NotFound
from tests.features.feature_data import DAY, T0

FEATURES = ["churn_stats:orders_30d", "churn_stats:spend_30d"]


@pytest.fixture
def applied(features, definitions_file):
    features.apply(definitions_file)
    return features


def entity_rows(tz=None):
    times = pd.Series([T0 + 2 * DAY, T0 + 4 * DAY, T0 + DAY / 2,
                       T0 + 10 * DAY, T0 + 2 * DAY])
    frame = pd.DataFrame({"customer_id": [1, 1, 2, 3, 99], "event_timestamp": times,
                          "label": [0, 1, 0, 1, 0]})
    if tz:
        frame["event_timestamp"] = frame["event_timestamp"].dt.tz_localize(tz)
    return frame


def test_training_set_never_sees_the_future(applied, stats_parquet):
    rows = entity_rows()
    result = applied.training_set(rows, FEATURES)
    # a naive join on the key takes the newest value, seen only on day 3
    naive = rows.merge(pd.read_parquet(stats_parquet).sort_values("event_timestamp")
                       .groupby("customer_id").last().reset_index(), on="customer_id",
                       how="left")
    assert naive["orders_30d"].tolist()[0] == 30  # the leak a naive join has
    assert list(result.columns) == ["customer_id", "event_timestamp", "label", "orders_30d",
                                    "spend_30d"]
    assert result["customer_id"].tolist() == [1, 1, 2, 3, 99]  # the entity rows' order
    got = result["orders_30d"].tolist()
    assert got[0] == 10  # day 2: only day 0's value existed
    assert got[1] == 30  # day 4: day 3's value
    assert pd.isna(got[2])  # customer 2 at 12:00 on day 0: its first value comes on day 1
    assert pd.isna(got[3])  # day 10: day 0's value is older than the 2-day ttl
    assert pd.isna(got[4])  # an unknown customer
    assert result["spend_30d"].tolist()[:2] == [100.0, 300.0]


def test_polars_and_arrow_out(applied):
    import pyarrow as pa

    arrow = applied.training_set(entity_rows(), FEATURES, output="arrow")
    assert isinstance(arrow, pa.Table) and arrow.column("orders_30d").to_pylist()[:2] == [10, 30]
    pl = pytest.importorskip("polars")
    frame = applied.training_set(pl.from_pandas(entity_rows()), FEATURES, output="polars")
    assert isinstance(frame, pl.DataFrame) and frame["orders_30d"].to_list()[:2] == [10, 30]


def test_an_unknown_feature_is_named_with_close_matches(applied):
    with pytest.raises(NotFound) as caught:
        applied.training_set(entity_rows(), ["churn_stats:orders_3d"])
    assert "churn_stats:orders_3d" in str(caught.value)
    assert "churn_stats:orders_30d" in caught.value.hint
    with pytest.raises(NotFound, match="churn_stat"):
        applied.training_set(entity_rows(), ["churn_stat:orders_30d"])


def test_entity_frame_without_key_or_timestamp(applied):
    with pytest.raises(InvalidArgument, match="customer_id"):
        applied.training_set(entity_rows().drop(columns="customer_id"), FEATURES)
    with pytest.raises(InvalidArgument, match="event_timestamp"):
        applied.training_set(entity_rows().drop(columns="event_timestamp"), FEATURES)


def test_naive_and_aware_times_are_not_mixed(applied):
    with pytest.raises(InvalidArgument, match="time zone") as caught:
        applied.training_set(entity_rows(tz="UTC"), FEATURES)
    assert "tz_localize" in caught.value.hint


def test_training_set_through_the_sdk(sdk, definitions_file):
    import gannet.features

    gannet.features.apply(definitions_file)
    result = gannet.features.training_set(entity_rows(), ["churn_stats:orders_30d"])
    assert result["orders_30d"].tolist()[:2] == [10, 30]


def test_aware_times_on_both_sides(features, tmp_path):
    """Time-zone-aware times (nanoseconds, as pandas writes them) on both sides join."""
    from gannet.features import Entity, FeatureView
    from tests.features.feature_data import stats_frame

    frame = stats_frame()
    frame["event_timestamp"] = frame["event_timestamp"].dt.tz_localize("UTC").astype(
        "datetime64[ns, UTC]")
    frame.to_parquet(tmp_path / "aware.parquet")
    features.apply([Entity("customer", "customer_id"),
                    FeatureView("aware", ["customer"], str(tmp_path / "aware.parquet"),
                                ["orders_30d"])])
    rows = entity_rows(tz="UTC")
    rows["event_timestamp"] = rows["event_timestamp"].astype("datetime64[ns, UTC]")
    assert features.training_set(rows, ["aware:orders_30d"])["orders_30d"].tolist()[:2] == [10, 30]


def test_a_source_whose_schema_changed_is_named(applied, stats_parquet):
    from gannet.core.errors import InvalidState

    changed = pd.read_parquet(stats_parquet).drop(columns="spend_30d")
    changed["orders_30d"] = changed["orders_30d"].astype(str)
    changed.to_parquet(stats_parquet)
    with pytest.raises(InvalidState, match="missing spend_30d") as caught:
        applied.training_set(entity_rows(), FEATURES)
    assert "retyped orders_30d BIGINT -> VARCHAR" in str(caught.value)
    assert "gannet features apply" in caught.value.hint
    with pytest.raises(InvalidState, match="changed since it was registered"):
        applied.materialize()
    stats_parquet.unlink()
    with pytest.raises(NotFound, match="churn_stats.parquet' does not exist"):
        applied.training_set(entity_rows(), FEATURES)
