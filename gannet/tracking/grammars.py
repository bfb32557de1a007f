"""The search languages' vocabularies: which attributes each names, and how else people
spell them. ``filter_parser`` reads a filter or order_by with one of them (runs' by
default); the services that search other things (experiments, logged models, registered
models, model versions, as MLflow's search languages do) pass their own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ATTRIBUTES", "ATTRIBUTE_ALIASES", "EXPERIMENTS", "LOGGED_MODELS", "RUNS", "AttributeSpec",
    "Grammar",
]


@dataclass(frozen=True)
class AttributeSpec:
    """What a run attribute holds: numbers or strings, and whether it may be missing."""

    numeric: bool = False
    nullable: bool = False


# The run attributes a filter may name (canonical names; query.py maps them to columns).
ATTRIBUTES: dict[str, AttributeSpec] = {
    "run_id": AttributeSpec(),
    "run_name": AttributeSpec(),
    "status": AttributeSpec(),
    "user_id": AttributeSpec(),
    "artifact_uri": AttributeSpec(),
    "start_time": AttributeSpec(numeric=True),
    "end_time": AttributeSpec(numeric=True, nullable=True),
    "experiment_id": AttributeSpec(),
    "parent_run_id": AttributeSpec(nullable=True),
    "source_name": AttributeSpec(),
    "git_commit": AttributeSpec(nullable=True),
}
# Looked up lower-cased, so "Run name", "Run Name" and "Created" (the UI's spellings) work.
ATTRIBUTE_ALIASES = {"run name": "run_name", "created": "start_time", "id": "run_id"}


@dataclass(frozen=True)
class Grammar:
    """What one search language names: its attributes (and their other spellings) and the
    entities besides attributes it knows. Runs have metrics, params and tags; experiments,
    registered models and model versions (MLflow's other search languages) only tags."""

    what: str  # "run", "experiment", ...: how messages name the thing searched
    attributes: dict[str, AttributeSpec]
    aliases: dict[str, str]
    entities: tuple[str, ...] = ("metric", "param", "tag")

    def canonical(self, name: str) -> str | None:
        lowered = name.lower()
        if lowered in self.attributes:
            return lowered
        return self.aliases.get(lowered)


RUNS = Grammar("run", ATTRIBUTES, ATTRIBUTE_ALIASES)


EXPERIMENTS = Grammar(
    "experiment",
    {
        "name": AttributeSpec(),
        "experiment_id": AttributeSpec(),
        "creation_time": AttributeSpec(numeric=True),
        "last_update_time": AttributeSpec(numeric=True),
        "lifecycle_stage": AttributeSpec(),
    },
    {"id": "experiment_id", "created": "creation_time"},
    entities=("tag",),
)

LOGGED_MODELS = Grammar(
    "logged model",
    {
        "model_id": AttributeSpec(),
        "name": AttributeSpec(),
        "source_run_id": AttributeSpec(nullable=True),
        "model_type": AttributeSpec(nullable=True),
        "status": AttributeSpec(),
        "creation_time": AttributeSpec(numeric=True),
        "last_update_time": AttributeSpec(numeric=True),
    },
    {"creation_timestamp": "creation_time", "last_updated_timestamp": "last_update_time",
     "creation_timestamp_ms": "creation_time", "last_updated_timestamp_ms": "last_update_time",
     "id": "model_id"},
    entities=("metric", "param", "tag"),
)
