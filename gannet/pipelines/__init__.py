"""Pipelines: Python step DAGs with caching, retries, resume, executors and schedules.

A map of the folder:

- ``dsl.py``: ``@step`` (a ``Step``: a typed function plus cache, retries, backoff,
  timeout) and ``@pipeline`` (a ``Pipeline``: a function wiring steps by calling them);
  ``when(output)`` for steps that run only if a step's output is truthy; ``Step.map``
  for fan-out.
- ``graph.py``: the DAG as data (``Graph``, ``Node``, ``Output``): edges, order, cycle and
  connection checks.
- ``parameters.py``: pipeline parameters from the function's signature; ``--param k=v``
  text converted by declared type.
- ``materializers.py``: outputs to the blob store by type (dataset versions by reference,
  Parquet tables, numpy arrays, JSON values, model packages) and ``register_materializer``
  for anything else.
- ``cache.py``: cache keys (code, parameters, input digests, declared environment).
- ``tasks.py``: one step's execution on a worker (``execute``), ``log_metric`` and
  ``report`` inside a step.
- ``executors.py``: the ``Executor`` interface and ``local``, ``processes``, ``dask``.
- ``runner.py``: the coordinator of one run (ready steps, cache hits, retries, Ctrl-C).
- ``recording.py``: the tracking runs of a pipeline run and its steps (nested runs).
- ``loading.py``: ``FILE[:NAME]`` to a pipeline; a step found again by workers.
- ``export.py``: a pipeline as an Argo Workflows YAML (each step: ``gannet pipeline step``).
- ``datasets.py``: dataset versions as step inputs (references resolved) and the lineage
  edges of step runs.
- ``sweeps.py``: parameter searches with Optuna, trials as nested pipeline runs.
- ``pruning.py``: ``report`` inside a step, and a sweep's pruner stopping bad trials.
- ``scaffold.py`` and ``templates/``: project templates (``gannet init --template``).
- ``scheduling.py``: cron schedules fired once per window by any number of schedulers.
- ``service.py``: ``PipelineService`` (run, resume, read outputs, the cache, gc references).
- ``tables.py``, ``repository.py``, ``types.py``: its tables, all its SQL, its plain types.
"""

from gannet.pipelines.dsl import Outputs, Pipeline, Step, pipeline, step, when
from gannet.pipelines.executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    ProcessExecutor,
    make_executor,
)
from gannet.pipelines.graph import Graph, Node, Output
from gannet.pipelines.loading import load_pipeline
from gannet.pipelines.materializers import Materializer, StoredValue, register_materializer
from gannet.pipelines.parameters import Parameter
from gannet.pipelines.pruning import TrialPruned
from gannet.pipelines.tasks import current_run_id, log_metric, report
from gannet.pipelines.types import PipelineRun, StepResult, StepStatus

__all__ = [
    "DaskExecutor",
    "Executor",
    "Graph",
    "LocalExecutor",
    "Materializer",
    "Node",
    "Output",
    "Outputs",
    "Parameter",
    "Pipeline",
    "PipelineRun",
    "ProcessExecutor",
    "Step",
    "StepResult",
    "StepStatus",
    "StoredValue",
    "TrialPruned",
    "current_run_id",
    "load_pipeline",
    "log_metric",
    "make_executor",
    "pipeline",
    "register_materializer",
    "report",
    "step",
    "when",
]
