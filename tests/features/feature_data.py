"""A customer's order statistics over time and their feature definitions (shared by the
feature store's tests; imported by module path, not from conftest, whose name other test
folders share)."""

from datetime import datetime, timedelta

T0 = datetime(2026, 1, 1)
DAY = timedelta(days=1)


def stats_frame():
    """customer 1: 10 orders on day 0, 30 on day 3; customer 2: 5 on day 1; 3: 7 on day 0."""
    import pandas as pd

    return pd.DataFrame({
        "customer_id": [1, 1, 2, 3],
        "event_timestamp": [T0, T0 + 3 * DAY, T0 + DAY, T0],
        "orders_30d": [10, 30, 5, 7],
        "spend_30d": [100.0, 300.0, 50.0, 70.0],
    })


DEFINITIONS = """
entities:
  - name: customer
    join_keys: [customer_id]
feature_views:
  - name: churn_stats
    entities: [customer]
    source: {source}
    features: [orders_30d, spend_30d]
    ttl: 2d
    owner: growth
    tags: {{team: growth}}
"""
