"""Tracking's tables on the shared MetaData. Changed only together with a migration."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)

from gannet.store.metadata.schema import METADATA, AutoId

experiments = Table(
    "experiments",
    METADATA,
    Column("experiment_id", String(64), primary_key=True),
    Column("name", String(500), nullable=False, unique=True),
    Column("artifact_location", String(1000), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("project", String(100), nullable=False, server_default="default"),
    Index("ix_experiments_project", "project"),
)

experiment_tags = Table(
    "experiment_tags",
    METADATA,
    Column(
        "experiment_id",
        String(64),
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    METADATA,
    Column("run_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        String(64),
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("parent_run_id", String(64)),
    Column("user_id", String(256), nullable=False),
    Column("source_name", String(1000), nullable=False),
    Column("source_type", String(20), nullable=False),
    Column("git_commit", String(64)),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("artifact_uri", String(1000), nullable=False),
    Column("deleted_time", BigInteger),  # when deleted (soft); gc removes it for good later
    # the default order of every runs list (newest first), for any filter: read backwards
    Index("ix_runs_experiment_id_lifecycle_stage_start_time_run_id",
          "experiment_id", "lifecycle_stage", "start_time", "run_id"),
    # run_name = / LIKE 'prefix%' (pattern ops: PostgreSQL uses a B-tree for LIKE only so)
    Index("ix_runs_experiment_id_lifecycle_stage_name",
          "experiment_id", "lifecycle_stage", "name",
          postgresql_ops={"name": "varchar_pattern_ops"},
          postgresql_include=["start_time", "run_id"]),
    Index("ix_runs_parent_run_id", "parent_run_id"),
)


def _run_fk() -> Column:
    return Column(
        "run_id",
        String(64),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    )


# Values up to this many bytes are in the (key, value, run_id) indexes on PostgreSQL, whose
# B-tree entries are limited to ~2.7 kB (a longer param or tag could not be stored at all);
# the few longer ones are indexed by (key, run_id) apart (an empty index on SQLite).
INDEXED_VALUE_BYTES = 2000


def _value_indexes(table: str) -> list[Index]:
    """(key, value, run_id): the runs whose param (tag) matches, for a search. Pattern ops
    on PostgreSQL, so LIKE 'prefix%' is a range whatever the database's collation."""
    return [
        Index(f"ix_{table}_key_value_run_id", "key", "value", "run_id",
              postgresql_where=text(f"octet_length(value) <= {INDEXED_VALUE_BYTES}"),
              postgresql_ops={"value": "text_pattern_ops"}),
        Index(f"ix_{table}_key_run_id_long_values", "key", "run_id",
              postgresql_where=text(f"octet_length(value) > {INDEXED_VALUE_BYTES}"),
              sqlite_where=text("0")),
    ]


params = Table(
    "params",
    METADATA,
    _run_fk(),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    *_value_indexes("params"),
)

tags = Table(
    "tags",
    METADATA,
    _run_fk(),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    *_value_indexes("tags"),
)

# Every logged point. NaN is kept as is_nan=True with value NULL (SQLite has no NaN).
metrics = Table(
    "metrics",
    METADATA,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Double),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Index("ix_metrics_run_id_key_step", "run_id", "key", "step"),
)

# The point with the highest (step, timestamp) per run and key: what search filters and
# orders by, indexed by (key, value) so "metrics.acc > 0.9 ORDER BY metrics.acc" is a range scan.
latest_metrics = Table(
    "latest_metrics",
    METADATA,
    _run_fk(),
    Column("key", String(250), primary_key=True),
    Column("value", Double),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
)

# The artifact index: one row per file logged to a run, pointing into the blob store.
artifacts = Table(
    "artifacts",
    METADATA,
    _run_fk(),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_artifacts_digest", "digest"),
)


# MLflow 3's logged models: a model logged in an experiment before any registration (an
# MLflow client's ``log_model`` makes one), with its tags, params and files.
logged_models = Table(
    "logged_models",
    METADATA,
    Column("model_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        String(64),
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("source_run_id", String(64)),  # no foreign key: a purged run leaves its models
    Column("model_type", String(500)),
    Column("status", String(16), nullable=False),
    Column("status_message", Text),
    Column("user_id", String(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Index("ix_logged_models_experiment_id_creation_time", "experiment_id", "creation_time"),
    Index("ix_logged_models_source_run_id", "source_run_id"),
)


def _model_fk() -> Column:
    return Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        primary_key=True,
    )


logged_model_tags = Table(
    "logged_model_tags",
    METADATA,
    _model_fk(),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

logged_model_params = Table(
    "logged_model_params",
    METADATA,
    _model_fk(),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# A logged model's files, as ``artifacts`` holds a run's: one row per file, into the blob store.
logged_model_files = Table(
    "logged_model_files",
    METADATA,
    _model_fk(),
    Column("path", String(1000), primary_key=True),
    Column("digest", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_logged_model_files_digest", "digest"),
)

# Batches a remote client sent, by the id it chose: a retried batch (its answer was lost)
# is recognised and not written twice. ``report`` is the first answer (JSON), given again.
# Rows older than a day are pruned: a client retries a batch for seconds, not days.
written_batches = Table(
    "written_batches",
    METADATA,
    Column("batch_id", String(64), primary_key=True),
    Column("created_time", BigInteger, nullable=False),
    Column("report", Text, nullable=False),
    Index("ix_written_batches_created_time", "created_time"),
)
