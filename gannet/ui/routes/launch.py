"""Launching a pipeline from the browser ("order a pizza"): pick a pipeline this server
has run, a project template (``gannet init --template``) or a file of a git repository at
a commit, give its parameters (a dataset version among the suggestions), run it, then
watch it on its run's page.

Nothing typed in a form names code to run on its own: a pipeline file is offered and
accepted only when this server already knows it (one a run the caller may see ran, as the
pipeline store recorded it, not as a tag says, or one a schedule names); a template only
by its name among the installed ones; a git repository only when the
``ui_launch_repositories`` setting allows it (its URL, or a prefix of it ending in ``/``;
none by default), and then a file inside its checkout. A repository's revision is
resolved to its commit when the form is shown, and that exact commit runs and is recorded
on the run (``gannet.pipeline.repo`` / ``gannet.pipeline.commit`` tags, the run's git
commit). The run is ``run_pipeline`` (what ``gannet pipeline run`` calls) in a thread of
the server, acting for the caller, so the services decide who may (a run is made in the
pipeline's experiment: an editor's right). The run's id is chosen first, so the browser
is sent to the run's page as soon as the run exists, and follows it there.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

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


@dataclass(frozen=True)
class Chosen:
    """What a launch runs: the file, where it came from, and the form fields naming it."""

    target: str
    label: str
    fields: dict[str, str]
    source: tuple[str, str] | None = None  # (repository, commit)


@router.get("/pipelines/launch")
@shown("pipelines")
def launch_form(request: Request, target: str = "", template: str = "", repo: str = "",
                rev: str = "HEAD", file: str = "") -> Response:
    from gannet.pipelines.loading import load_pipeline

    targets = _targets(request)
    asked = {"target": target, "template": template, "repo": repo, "rev": rev, "file": file}
    chosen = _chosen(request, asked, targets) if target or template or repo else None
    parameters = load_pipeline(chosen.target).parameters if chosen else []
    return page(request, "pipeline_launch.html.j2", "Launch a pipeline", "pipelines",
                targets=targets, target=target, chosen=chosen, parameters=parameters,
                templates=services_of(request).pipelines.list_templates(),
                chosen_template=template, repo=repo, rev=rev, file=file,
                repos_allowed=bool(_allowed(request)), versions=_versions(request),
                executors=EXECUTORS)


@router.post("/pipelines/launch")
@shown("pipelines")
async def launch(request: Request) -> Response:
    form = await form_of(request)
    executor = form.get("executor", EXECUTORS[0])
    if executor not in EXECUTORS:
        raise InvalidArgument(f"executor {executor!r} is not offered",
                              f"pick one of {', '.join(EXECUTORS)}")
    targets = await in_thread(_targets, request) if form.get("target") else []
    chosen = await in_thread(_chosen, request, form, targets)
    params = {k.removeprefix("param."): v for k, v in form.items()
              if k.startswith("param.") and v.strip()}
    run_id = await in_thread(_start, request, chosen, params, executor)
    return see_other(f"/ui/pipelines/runs/{run_id}")


def _chosen(request: Request, asked: dict[str, str], targets: list[str]) -> Chosen:
    """The pipeline file the form names: a known file, a template, or a repository's file
    at a commit (checked out in the home's cache)."""
    pipelines = services_of(request).pipelines
    if asked.get("target"):
        _known(asked["target"], targets)
        return Chosen(asked["target"], asked["target"], {"target": asked["target"]})
    if asked.get("template"):
        found = str(pipelines.template_pipeline(asked["template"]))
        return Chosen(found, f"template {asked['template']}",
                      {"template": asked["template"]})
    repo, rev = asked.get("repo", "").strip(), asked.get("rev", "").strip() or "HEAD"
    file = asked.get("file", "").strip()
    if not repo:
        raise InvalidArgument("no pipeline was chosen",
                              "pick a pipeline file, a template or a git repository")
    _check_repo(request, repo)
    inside = PurePosixPath(file)
    if not file or inside.is_absolute() or ".." in inside.parts or not file.endswith(".py"):
        raise InvalidArgument(f"pipeline file {file!r} is not a .py file inside the "
                              "repository", "give its path from the repository's root, "
                              "e.g. pipelines/train.py")
    tree, commit = pipelines.checkout(repo, rev)
    if not (tree / file).is_file():
        raise NotFound(f"{repo} has no file {file!r} at commit {commit}",
                       "give a path from the repository's root at that commit")
    return Chosen(str(tree / file), f"{file} of {repo} at commit {commit}",
                  {"repo": repo, "rev": commit, "file": file}, (repo, commit))


def _allowed(request: Request) -> list[str]:
    setting = services_of(request).settings.ui_launch_repositories
    return [r.strip() for r in setting.split(",") if r.strip()]


def _check_repo(request: Request, repo: str) -> None:
    """Code of a repository runs on this server: only one the setting allows."""
    allowed = _allowed(request)
    if not any(a == "*" or repo == a or (a.endswith("/") and repo.startswith(a))
               for a in allowed):
        raise PermissionDenied(
            f"pipelines of git repository {repo!r} may not be launched from this server",
            "an administrator may add it (or a prefix of it ending in /) to the "
            "ui_launch_repositories setting" if allowed else
            "launching from a git repository is off: an administrator turns it on with "
            "the ui_launch_repositories setting")


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


def _start(request: Request, chosen: Chosen, params: dict[str, str], executor: str) -> str:
    """Start the run in a thread acting for the caller; its id once it is stored (or the
    error that stopped it first: a wrong parameter, a role that may not run it)."""
    from gannet.pipelines.loading import load_pipeline

    service = services_of(request).pipelines
    pipeline = load_pipeline(chosen.target)
    pipeline.build(**params)  # a wrong parameter is refused here, before anything runs
    run_id = new_id()
    failed: list[BaseException] = []

    def work() -> None:
        try:
            service.run_pipeline(pipeline, params, target=chosen.target, executor=executor,
                                 run_id=run_id, source=chosen.source)
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
            raise InvalidArgument(f"the pipeline {chosen.label} could not start: {failed[0]}",
                                  "run it with gannet pipeline run to see the whole error")
        try:
            service.get_pipeline_run(run_id)
            return run_id
        except NotFound:
            time.sleep(0.05)
    return run_id
