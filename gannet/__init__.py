"""Gannet: one MLOps platform from data to a served, monitored and retrained model.

``import gannet`` is light: the names below load on first use (editors and type checkers
see them through the ``TYPE_CHECKING`` imports).

Tracking: ``set_experiment``, ``start_run``, ``end_run``, ``active_run``, ``log_param(s)``,
``log_metric(s)``, ``set_tag(s)``, ``log_artifact(s)``, ``log_text``, ``log_dict``,
``log_figure``, ``log_input`` (a dataset version the run used), ``search_runs``,
``get_run``, ``get_metric_history``, ``list_artifacts``, ``download_artifacts``,
``autolog``, ``flush``. ``configure(**settings)`` points them at
other stores and ``get_client()`` returns the client they use. ``GannetClient`` is the
explicit client; ``Settings`` the settings object; ``GannetError`` the root of every error.

Models: ``log_model``, ``register_model``, ``set_registered_model_alias``,
``delete_registered_model_alias``, ``promote``, ``load_model`` (a registered model such as
``churn@champion``, or a package folder); ``gannet.models`` is the package format.

Data: ``validate_data`` (a suite over a table, the report stored, the active run tagged
``gannet.validation``); ``gannet.data.profile`` and ``gannet.data.validate`` compute
without storing anything.
Pipelines: ``step`` and ``pipeline`` (decorators), ``run_pipeline``, ``load_output``;
``gannet.pipelines`` holds the rest (``when``, materializers, executors).

Features: ``gannet.features`` (``Entity``, ``FeatureView``, ``apply``, ``training_set``,
``materialize``, ``online``): point-in-time training sets and online feature values.

Monitoring: ``gannet.monitor.drift(reference, current)`` and ``gannet.monitor.quality``
on plain DataFrames (``gannet monitor`` watches deployments).

The package map (see ARCHITECTURE.md), low to high: ``core`` (settings, ids, errors),
``store`` (metadata and blob stores, garbage collection), ``lineage`` (what used what)
and ``stats`` (profiles, drift tests, data quality, performance metrics), ``tracking``,
``auth``, ``models``, ``registry``, ``features`` (the feature store), ``data`` (versioned
datasets: ``gannet.data.add/open``; validation suites), ``serving`` (deployments, the
inference server, the inference log), ``interop`` (``gannet import mlflow``: another
tool's history copied in), ``pipelines``, ``monitoring`` (monitors of deployments,
alerts), ``training`` (not built yet), ``remote`` (the same services over a team server's
REST API), ``bootstrap`` (the composition root), and the faces ``client`` (this SDK),
``cli``, ``server`` and ``ui``;
``testing`` holds fixtures for tests and plugin authors; ``__main__`` runs the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from gannet.core.version import VERSION as __version__

if TYPE_CHECKING:
    from gannet import data, models
    from gannet.client import monitor
    from gannet.client.client import GannetClient
    from gannet.client.fluent import (
        active_run,
        autolog,
        configure,
        delete_registered_model_alias,
        download_artifacts,
        end_run,
        flush,
        get_client,
        get_metric_history,
        get_run,
        list_artifacts,
        load_model,
        load_output,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        log_text,
        promote,
        register_model,
        run_pipeline,
        search_runs,
        set_experiment,
        set_registered_model_alias,
        set_tag,
        set_tags,
        start_run,
        validate_data,
    )
    from gannet.core.errors import GannetError
    from gannet.core.settings import Settings
    from gannet.pipelines.dsl import pipeline, step

__all__ = [
    "GannetClient",
    "GannetError",
    "Settings",
    "__version__",
    "active_run",
    "autolog",
    "configure",
    "data",
    "delete_registered_model_alias",
    "download_artifacts",
    "end_run",
    "flush",
    "get_client",
    "get_metric_history",
    "get_run",
    "list_artifacts",
    "load_model",
    "load_output",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "models",
    "monitor",
    "pipeline",
    "promote",
    "register_model",
    "run_pipeline",
    "search_runs",
    "set_experiment",
    "set_registered_model_alias",
    "set_tag",
    "set_tags",
    "start_run",
    "step",
    "validate_data",
]
_ELSEWHERE = {
    "GannetClient": "gannet.client.client",
    "Settings": "gannet.core.settings",
    "GannetError": "gannet.core.errors",
    "step": "gannet.pipelines.dsl",
    "pipeline": "gannet.pipelines.dsl",
}
_SUBMODULES = {"data": "gannet.data", "models": "gannet.models", "monitor": "gannet.client.monitor"}
_FLUENT = frozenset(__all__) - set(_ELSEWHERE) - {*_SUBMODULES, "__version__"}


def __getattr__(name: str) -> Any:
    if name in _FLUENT:
        value = getattr(import_module("gannet.client.fluent"), name)
    elif name in _ELSEWHERE:
        value = getattr(import_module(_ELSEWHERE[name]), name)
    elif name in _SUBMODULES:
        value = import_module(_SUBMODULES[name])
    else:
        raise AttributeError(f"module 'gannet' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
