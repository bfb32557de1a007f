"""Pipelines: pipeline runs, one run's DAG with each step's status, cache hit, duration and
logs (followed live while it runs), and the schedules with their fired windows.

A pipeline run is a tracking run tagged ``gannet.pipeline`` (its steps are nested runs), so
the runs list is ``search_runs`` over the experiments the caller may see, and a run's page
asks ``get_run`` first: what the caller may not read through the API stays hidden here.
The steps are ``get_pipeline_run``; the DAG's edges come from building the pipeline of the
run's file with its parameters (as ``gannet pipeline show`` does), and when that file
cannot be loaded any more the steps are shown without edges. Step logs are the step runs'
``stdout.txt``, ``stderr.txt`` and ``traceback.txt`` artifacts.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core import wire
from gannet.core.errors import InvalidArgument, NotFound, RangeNotSatisfiable
from gannet.pipelines.types import PipelineRun, StepResult, StepStatus
from gannet.ui.dag import layout as dag_layout
from gannet.ui.pages import page, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

RUNS_SHOWN = 100
LOG_FILES = ("stdout.txt", "stderr.txt", "traceback.txt")
LOG_BYTES = 64 * 1024
PIPELINE_TAG = "gannet.pipeline"
PARENT_TAG = "mlflow.parentRunId"  # a step's nested run names its pipeline run
GRAPHS_KEPT = 64
_graphs: OrderedDict[tuple[str, str, float], tuple[list[str], list[tuple[str, str]]]] = \
    OrderedDict()
_lock = threading.Lock()


@router.get("/pipelines")
@shown("pipelines")
def pipelines(request: Request, pipeline: str = "") -> Response:
    services = services_of(request)
    tracking = services.tracking
    experiments = [e.experiment_id for e in tracking.search_experiments()]
    query = f"tags.`{PIPELINE_TAG}` IS NOT NULL"
    if pipeline:
        if "'" in pipeline:
            raise InvalidArgument(f"{pipeline!r} is not a pipeline name",
                                  "pick a pipeline from the list")
        query = f"tags.`{PIPELINE_TAG}` = '{pipeline}'"
    runs = tracking.search_runs(experiments, query, ["attributes.start_time DESC"],
                                max_results=RUNS_SHOWN).items if experiments else []
    schedules = services.pipelines.list_schedules()
    firings = services.pipelines.list_schedule_runs() if schedules else []
    latest: dict[str, Any] = {}
    for firing in firings:  # newest first: the first one seen of each schedule is its last
        latest.setdefault(firing.schedule_id, firing)
    title = f"Pipeline {pipeline}" if pipeline else "Pipelines"
    return page(request, "pipelines.html.j2", title, "pipelines", runs=runs,
                pipeline=pipeline, schedules=schedules, latest=latest, firings=firings[:50])


@router.get("/pipelines/runs/{run_id}")
@shown("pipelines")
def pipeline_run(request: Request, run_id: str) -> Response:
    services = services_of(request)
    tracked = services.tracking.get_run(run_id)  # the caller may read it, or NotFound
    run = services.pipelines.get_pipeline_run(run_id)
    names, edges, graph_error = _graph(run)
    steps = _steps(request, run, tracked.info.experiment_id, names)
    drawing = dag_layout([s.name for s in steps], edges)
    logs = {s.name: _logs(request, s.step_run_id) for s in steps
            if s.step_run_id and s.status not in ("RUNNING", "PENDING")}
    return page(request, "pipeline_run.html.j2", f"Pipeline run {run.pipeline}",
                "pipelines", run=run, steps=steps, tracked=tracked, drawing=drawing,
                edges=edges, graph_error=graph_error, logs=logs,
                statuses={s.name: s for s in steps})


@router.get("/pipelines/runs/{run_id}/status")
def pipeline_status(request: Request, run_id: str) -> Response:
    """The run's and its steps' status as JSON (what the page polls while it runs)."""
    services = services_of(request)
    tracked = services.tracking.get_run(run_id)
    run = services.pipelines.get_pipeline_run(run_id)
    steps = _steps(request, run, tracked.info.experiment_id, _graph(run)[0])
    body = {"status": run.status, "steps": [
        {"name": s.name, "status": s.status, "cached": s.cached,
         "duration": f"{s.duration_s:.2f} s" if s.duration_s else ""} for s in steps]}
    return Response(wire.dumps(body), media_type="application/json",
                    headers={"cache-control": "no-store"})


def _steps(request: Request, run: PipelineRun, experiment_id: str,
           names: list[str]) -> list[StepResult]:
    """The run's steps in the DAG's order: those done as the pipeline store has them;
    while the run runs, a step begun is RUNNING (its nested tracking run exists, its
    result is not stored yet) and one not begun PENDING."""
    known = {s.name: s for s in run.steps}
    if run.status == StepStatus.RUNNING:
        nested = services_of(request).tracking.search_runs(
            [experiment_id], f"tags.`{PARENT_TAG}` = '{run.run_id}'",
            max_results=1000).items
        for child in nested:
            name = child.data.tags.get("gannet.step")
            if name and name not in known:
                known[name] = StepResult(name, StepStatus.RUNNING,
                                         step_run_id=child.info.run_id)
    pending = StepStatus.PENDING if run.status == StepStatus.RUNNING else "NOT RUN"
    ordered = [known.get(n) or StepResult(n, pending) for n in names]
    return ordered + [s for n, s in known.items() if n not in names]


def _graph(run: PipelineRun) -> tuple[list[str], list[tuple[str, str]], str]:
    """The DAG's steps in running order and its edges, built again from the run's file
    (kept per file, its modification time and the parameters); none, and why, when the
    file cannot be built any more."""
    from gannet.pipelines.loading import load_pipeline

    path = run.target.rpartition(":")[0] if not os.path.isfile(run.target) else run.target
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        return [], [], f"the pipeline's file {path or run.target!r} is not on this server"
    key = (run.target, json.dumps(run.params, sort_keys=True, default=str), mtime)
    with _lock:
        if key in _graphs:
            return *_graphs[key], ""
    try:
        graph = load_pipeline(run.target).build(**run.params)
    except Exception as exc:  # the file changed, or imports what is gone
        return [], [], f"the pipeline {run.target!r} could not be built again: {exc}"
    found = ([n.name for n in graph.ordered()], list(graph.edges))
    with _lock:
        _graphs[key] = found
        while len(_graphs) > GRAPHS_KEPT:
            _graphs.popitem(last=False)
    return *found, ""


def _logs(request: Request, step_run_id: str) -> dict[str, str]:
    """The step's captured output, first LOG_BYTES of each file it has."""
    tracking = services_of(request).tracking
    try:
        present = {f.path for f in tracking.list_artifacts(step_run_id)}
    except NotFound:
        return {}
    found = {}
    for name in LOG_FILES:
        if name not in present:
            continue
        try:
            opened = tracking.open_artifact(step_run_id, name, 0, LOG_BYTES)
        except RangeNotSatisfiable:
            continue
        with opened.reader as reader:
            text = reader.read(LOG_BYTES).decode("utf-8", "replace")
        found[name] = text + ("\n[...]" if int(opened.file.size or 0) > LOG_BYTES else "")
    return found

