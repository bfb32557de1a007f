"""Continuous training's tables on the shared MetaData. Changed only together with a
migration.

``training_policies``: one row per policy - its YAML as applied, its loop's phase and
stage, its working data (JSON: the challenger, the stage's start, trigger watermarks),
paused or not, and a revision every write bumps (a write from a stale read is refused).
``training_decisions``: what the controller decided, why, with its numbers (append-only).
``training_leases``: who acts now; one row per lease, held until ``expires_time``.
"""

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from gannet.store.metadata.schema import METADATA

training_policies = Table(
    "training_policies",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("model", String(256), nullable=False),
    Column("source", Text, nullable=False),  # the YAML as applied
    Column("folder", Text, nullable=False),  # where its relative pipeline path was read
    Column("phase", String(30), nullable=False),
    Column("stage", Integer, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("data", Text, nullable=False),  # JSON
    Column("revision", Integer, nullable=False),
    Column("applied_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
)

training_decisions = Table(
    "training_decisions",
    METADATA,
    Column("id", String(32), primary_key=True),  # sortable: newest is the greatest
    Column("policy", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("numbers", Text, nullable=False),  # JSON
    Column("cycle", String(32)),
    Column("at", BigInteger, nullable=False),
    Index("ix_training_decisions_policy", "policy", "id"),
)

training_leases = Table(
    "training_leases",
    METADATA,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_time", BigInteger, nullable=False),
    Column("acquired_time", BigInteger, nullable=False),
)
