"""Launching a pipeline from the browser ("order a pizza"): pick one of the pipelines this
server has run, give its parameters (a dataset version among the suggestions), run it,
then watch it on its run's page.

Only a pipeline file this server already knows is offered and accepted: one a run the
caller may see ran (as the pipeline store recorded it, not as a tag says), or a schedule
names. A launch never runs a path typed in a form. The
run is ``run_pipeline`` (what ``gannet pipeline run`` calls) in a thread of the server,
acting for the caller, so the services decide who may (a run is made in the pipeline's
experiment: an editor's right). The run's id is chosen first, so the browser is sent to
the run's page as soon as the run exists, and follows it there.
"""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import GannetError, InvalidArgument, NotFound, PermissionDenied
from gannet.core.ids import new_id
from gannet.ui.pages import form_of, in_thread, page, see_other, services_of, shown
from gannet.ui.routes.pipelines import PIPELINE_TAG

router = APIRouter(prefix="/ui", include_in_schema=False)

EXECUTORS = ("processes", "local")
STARTED_WITHIN = 20.0  # seconds for a launched run to be stored before the page is shown
RUNS_SEARCHED = 1000
VERSIONS_OFFERED = 200
CHECKED_PER_FILE = 5  # runs of one file whose pipeline record is read, newest first


@router.get("/pipelines/launch")
@shown("pipelines")
def launch_form(request: Request, target: str = "") -> Response:
    from gannet.pipelines.loading import load_pipeline

    targets = _targets(request)
    parameters: list[Any] = []
    if target:
        _known(target, targets)
        parameters = load_pipeline(target).parameters
    return page(request, "pipeline_launch.html.j2", "Launch a pipeline", "pipelines",
                targets=targets, target=target, parameters=parameters,
                versions=_versions(request), executors=EXECUTORS)


@router.post("/pipelines/launch")
@shown("pipelines")
async def launch(request: Request) -> Response:
    form = await form_of(request)
    target = form.get("target", "")
    executor = form.get("executor", EXECUTORS[0])
    if executor not in EXECUTORS:
        raise InvalidArgument(f"executor {executor!r} is not offered",
                              f"pick one of {', '.join(EXECUTORS)}")
    _known(target, await in_thread(_targets, request))
    params = {k.removeprefix("param."): v for k, v in form.items()
              if k.startswith("param.") and v.strip()}
    run_id = await in_thread(_start, request, target, params, executor)
    return see_other(f"/ui/pipelines/runs/{run_id}")


def _targets(request: Request) -> list[str]:
    """Pipeline files of the runs the caller may see, and of the schedules. A run's tag
    names its file, but anyone who may log to a run can set tags: a file is offered only
    when the pipeline store's own record of that run (which only ``run_pipeline`` writes)
    names it too."""
    services = services_of(request)
    tracking = services.tracking
    experiments = [e.experiment_id for e in tracking.search_experiments()]
    runs = tracking.search_runs(experiments, f"tags.`{PIPELINE_TAG}` IS NOT NULL",
                                ["attributes.start_time DESC"],
                                max_results=RUNS_SEARCHED).items if experiments else []
    tagged: dict[str, list[str]] = {}
    for run in runs:
        target = run.data.tags.get(f"{PIPELINE_TAG}.target", "")
        if target:
            tagged.setdefault(target, []).append(run.info.run_id)
    found = {s.target for s in services.pipelines.list_schedules()}
    for target, run_ids in tagged.items():
        if target not in found and any(_recorded(request, r) == target
                                       for r in run_ids[:CHECKED_PER_FILE]):
            found.add(target)
    return sorted(found)


def _recorded(request: Request, run_id: str) -> str | None:
    try:
        return services_of(request).pipelines.get_pipeline_run(run_id).target
    except NotFound:  # a tracking run that only claims to be a pipeline run
        return None


def _known(target: str, targets: list[str]) -> None:
    if target not in targets:
        raise NotFound(f"no pipeline {target!r} has run on this server",
                       "pick one of the pipelines offered; run a new one once with "
                       "gannet pipeline run")


def _versions(request: Request) -> list[str]:
    """Dataset versions to suggest for a parameter (the newest first); none for someone
    who may not read datasets (no role in any project)."""
    data = services_of(request).data
    refs: list[str] = []
    try:
        datasets = data.list_datasets()
    except PermissionDenied:
        return []
    for dataset in datasets:
        refs += [v.ref for v in data.log(dataset.name)]
        if len(refs) >= VERSIONS_OFFERED:
            break
    return refs[:VERSIONS_OFFERED]


def _start(request: Request, target: str, params: dict[str, str], executor: str) -> str:
    """Start the run in a thread acting for the caller; its id once it is stored (or the
    error that stopped it first: a wrong parameter, a role that may not run it)."""
    from gannet.pipelines.loading import load_pipeline

    service = services_of(request).pipelines
    pipeline = load_pipeline(target)
    pipeline.build(**params)  # a wrong parameter is refused here, before anything runs
    run_id = new_id()
    failed: list[BaseException] = []

    def work() -> None:
        try:
            service.run_pipeline(pipeline, params, target=target, executor=executor,
                                 run_id=run_id)
        except BaseException as exc:  # shown to the browser if it is still waiting
            failed.append(exc)

    context = contextvars.copy_context()  # the caller the request acts for
    threading.Thread(target=context.run, args=(work,), daemon=True,
                     name=f"gannet-ui-pipeline-{run_id[:8]}").start()
    deadline = time.monotonic() + STARTED_WITHIN
    while time.monotonic() < deadline:
        if failed:
            if isinstance(failed[0], GannetError):
                raise failed[0]
            raise InvalidArgument(f"the pipeline {target!r} could not start: {failed[0]}",
                                  "run it with gannet pipeline run to see the whole error")
        try:
            service.get_pipeline_run(run_id)
            return run_id
        except NotFound:
            time.sleep(0.05)
    return run_id
