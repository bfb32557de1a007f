"""On-demand feature functions the tests register: in an importable module, as an
inference server in another process would need them."""


def spend_per_order(frame):
    """Spend per order, and the order's amount against that average."""
    import pandas as pd

    per_order = frame["spend_30d"] / frame["orders_30d"].where(frame["orders_30d"] > 0)
    return pd.DataFrame({"spend_per_order": per_order.fillna(0.0),
                         "amount_ratio": (frame["amount"] / per_order).fillna(0.0)})
