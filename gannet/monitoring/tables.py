"""Monitoring's tables on the shared MetaData. Changed only together with a migration.

``monitors``: one row per monitor (its reference is a Parquet blob; its options JSON; its
watermark, where the next run starts reading the log). ``monitor_reports``: the time
series, one row per monitor and window (a partial window's row is replaced until the
window closes). ``alert_rules``: rules as applied from YAML (JSON). ``alert_states``: per
rule and monitor, firing or not, since when, the last page, silences. ``alert_events``:
the history - every firing and resolution, and what was sent.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gannet.store.metadata.schema import METADATA

monitors = Table(
    "monitors",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("deployment", String(256), nullable=False),
    Column("reference_digest", String(80), nullable=False),  # a Parquet blob
    Column("reference_source", Text, nullable=False),  # where it came from, for people
    Column("options", Text, nullable=False),  # JSON: window, features, slices, tests ...
    Column("watermark", BigInteger),  # ms: the next run reads log rows from here
    Column("created_time", BigInteger, nullable=False),
    Column("last_run_time", BigInteger),
    Index("ix_monitors_deployment", "deployment"),
)

monitor_reports = Table(
    "monitor_reports",
    METADATA,
    Column("monitor", String(256), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("window_end", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("drift_share", Float),
    Column("report", Text, nullable=False),  # JSON, see gannet.monitoring.evaluate
    Column("updated_time", BigInteger, nullable=False),
    ForeignKeyConstraint(["monitor"], ["monitors.name"], ondelete="CASCADE"),
)

alert_rules = Table(
    "alert_rules",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("rule", Text, nullable=False),  # JSON of gannet.monitoring.alerts.rules.Rule
    Column("updated_time", BigInteger, nullable=False),
)

alert_states = Table(
    "alert_states",
    METADATA,
    Column("rule", String(256), primary_key=True),
    Column("monitor", String(256), primary_key=True),
    Column("state", String(20), nullable=False),  # "ok", "pending", "firing"
    Column("breaches", Integer, nullable=False),  # windows in a row the condition held
    Column("last_window", BigInteger),  # the window last judged (an open one is re-judged)
    Column("since", BigInteger, nullable=False),
    Column("value", Float),
    Column("last_notified", BigInteger),
    Column("silenced_until", BigInteger),
)

alert_events = Table(
    "alert_events",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("rule", String(256), nullable=False),
    Column("monitor", String(256), nullable=False),
    Column("state", String(20), nullable=False),  # "firing" or "resolved"
    Column("severity", String(20), nullable=False),
    Column("value", Float),
    Column("message", Text, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("delivery", Text, nullable=False),  # JSON: notifier -> "sent" | why not
    Index("ix_alert_events_time", "time"),
)
