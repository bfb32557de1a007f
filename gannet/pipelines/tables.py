"""Pipelines' tables on the shared MetaData. Changed only with a migration.

A pipeline run is a tracking run (``pipeline_runs.run_id`` is its id); each step has a row
per pipeline run with its outcome and its outputs' digests (JSON), and each cached result
a row by cache key. A schedule fires each window once: the row of
``pipeline_schedule_firings`` for (schedule, window) is the lease only one scheduler wins.
"""

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text

from gannet.store.metadata.schema import METADATA

pipeline_runs = Table(
    "pipeline_runs",
    METADATA,
    Column("run_id", String(32), primary_key=True),
    Column("pipeline", String(250), nullable=False),
    Column("target", Text, nullable=False),  # FILE[:NAME] it was loaded from, for resume
    Column("params", Text, nullable=False),  # JSON
    Column("executor", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("schedule_id", String(32), nullable=True),
)

pipeline_steps = Table(
    "pipeline_steps",
    METADATA,
    Column("run_id", String(32), primary_key=True),
    Column("step", String(250), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("cached", Boolean, nullable=False),
    Column("step_run_id", String(32), nullable=True),
    Column("cache_key", String(64), nullable=True),
    Column("outputs", Text, nullable=False),  # JSON: output name -> stored value
    Column("error", Text, nullable=True),
    Column("traceback", Text, nullable=True),
    Column("duration_s", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
)

pipeline_cache = Table(
    "pipeline_cache",
    METADATA,
    Column("cache_key", String(64), primary_key=True),
    Column("outputs", Text, nullable=False),  # JSON: output name -> stored value
    Column("step_run_id", String(32), nullable=False),
    Column("created_time", BigInteger, nullable=False),
)

pipeline_schedules = Table(
    "pipeline_schedules",
    METADATA,
    Column("schedule_id", String(32), primary_key=True),
    Column("target", Text, nullable=False),
    Column("cron", String(100), nullable=True),  # or:
    Column("dataset", String(250), nullable=True),  # fired by each new version of it
    Column("params", Text, nullable=False),  # JSON
    Column("executor", String(50), nullable=False),
    Column("created_time", BigInteger, nullable=False),
)

pipeline_schedule_firings = Table(
    "pipeline_schedule_firings",
    METADATA,
    Column("schedule_id", String(32), primary_key=True),
    Column("window_time", BigInteger, primary_key=True),
    Column("fired_time", BigInteger, nullable=False),
    Column("holder", String(100), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("status", String(20), nullable=False),
)

Index("ix_pipeline_runs_pipeline", pipeline_runs.c.pipeline, pipeline_runs.c.start_time)
