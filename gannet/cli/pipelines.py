"""``gannet pipeline show|run|resume|inspect``: draw, run and look into pipelines.

``run`` and ``resume`` are one ``PipelineService`` call each; they print a line per step as
it settles (on stderr with ``--json``, whose document alone goes to stdout) and exit 1 when
the run failed, 130 when Ctrl-C stopped it (the run is then KILLED).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gannet.cli import output
from gannet.core.errors import GannetError

if TYPE_CHECKING:
    from gannet.pipelines.graph import Graph
    from gannet.pipelines.types import PipelineRun, StepResult

app = typer.Typer(no_args_is_help=True, help="Run pipelines of steps and look into their runs.")

Params = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", metavar="NAME=VALUE",
                 help="A pipeline parameter, converted to its declared type (repeat it)."),
]
ExecutorOption = Annotated[
    str | None,
    typer.Option("--executor", help="Where steps run: local (in this process), processes "
                 "(independent steps in parallel; the default) or dask."),
]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", metavar="URL",
                 help="The Dask scheduler for --executor dask (tcp://host:8786)."),
]
Target = Annotated[str, typer.Argument(metavar="FILE[:NAME]",
                                       help="A Python file and, when it has several, which "
                                            "pipeline of it.")]
MARKS = {"FINISHED": "✓", "FAILED": "✗", "KILLED": "✗", "SKIPPED": "-", "PENDING": "·",
         "PRUNED": "✂"}


@app.command("show")
def show(target: Target, params: Params = None, as_json: output.AsJson = False) -> None:
    """Draw a pipeline's steps, what each takes from which, and its parameters (nothing runs)."""
    from gannet.pipelines.loading import load_pipeline
    from gannet.pipelines.parameters import parse_assignments

    pipeline = load_pipeline(target)
    graph = pipeline.build(**parse_assignments(params or []))
    if as_json:
        output.print_json(_graph_document(graph))
        return
    output.show(_tree(graph, pipeline.parameters))


@app.command("run")
def run(
    ctx: typer.Context,
    target: Target,
    params: Params = None,
    executor: ExecutorOption = None,
    address: AddressOption = None,
    no_cache: Annotated[bool, typer.Option("--no-cache",
                                           help="Run every step, even those cached.")] = False,
    repo: Annotated[str | None, typer.Option("--repo", metavar="URL",
                                             help="Take FILE from this git repository.")]
    = None,
    rev: Annotated[str, typer.Option("--rev", metavar="SHA",
                                     help="The commit (or tag, branch) of --repo.")] = "HEAD",
    as_json: output.AsJson = False,
) -> None:
    """Run a pipeline; each step is cached, retried and recorded as a nested run."""
    from gannet.pipelines.loading import load_pipeline
    from gannet.pipelines.parameters import parse_assignments

    service = ctx.obj.services.pipelines
    source = None
    if repo is not None:
        tree, commit = service.checkout(repo, rev)
        target, source = str(tree / target), (repo, commit)
    pipeline = load_pipeline(target)
    values = parse_assignments(params or [])
    total = len(pipeline.build(**values).nodes)
    with output.progress_bar("steps", enabled=not as_json) as advance:
        result = _interruptible(lambda: service.run_pipeline(
            pipeline, values, target=_absolute(target), executor=executor or "processes",
            address=address, no_cache=no_cache, on_step=_printer(as_json, advance, total),
            source=source))
    _report(result, as_json)


@app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The pipeline run's id.")],
    executor: ExecutorOption = None,
    address: AddressOption = None,
    as_json: output.AsJson = False,
) -> None:
    """Run again the steps of a failed or killed pipeline run that did not finish, and the
    steps after them; finished steps keep their outputs."""
    service = ctx.obj.services.pipelines
    with output.progress_bar("steps", enabled=not as_json) as advance:
        result = _interruptible(lambda: service.resume_pipeline(
            run_id, executor=executor, address=address, on_step=_printer(as_json, advance)))
    _report(result, as_json)


@app.command("inspect")
def inspect_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="The pipeline run's id.")],
    step: Annotated[str | None, typer.Argument(help="One step, to see its outputs and "
                                                    "error.")] = None,
    as_json: output.AsJson = False,
) -> None:
    """A pipeline run's steps, or one step's outputs (digests, types), error and traceback."""
    run = ctx.obj.services.pipelines.get_pipeline_run(run_id)
    if step is None:
        _show_run(run, as_json)
        return
    found = run.step(step)
    if as_json:
        output.print_json({**found.to_dict(), "step_run_id": found.step_run_id,
                           "attempts": found.attempts, "cache_key": found.cache_key,
                           "error": found.error, "traceback": found.traceback,
                           "outputs": {k: v.to_dict() for k, v in found.outputs.items()}})
        return
    output.show(output.key_value_table([
        ("Step", found.name), ("Status", found.status), ("Cached", str(found.cached).lower()),
        ("Duration", f"{found.duration_s:.3f} s"), ("Attempts", str(found.attempts)),
        ("Step run", found.step_run_id or "-"), ("Cache key", found.cache_key or "-"),
        *((f"Output {k}", f"{v.type_name} ({v.materializer}, "
           f"{output.format_size(v.size)}) {v.digest}") for k, v in found.outputs.items()),
    ]))
    if found.traceback:
        typer.echo(found.traceback, err=False)


@app.command("export")
def export(
    target: Target,
    params: Params = None,
    format_: Annotated[str, typer.Option("--format", help="The workflow format: argo (Argo "
                                         "Workflows; Kubeflow Pipelines runs on it).")] = "argo",
    image: Annotated[str, typer.Option("--image", help="The container image every step runs "
                                       "in (with Gannet, the pipeline file and the stores' "
                                       "settings).")] = "gannet:latest",
    out: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE",
                                            help="Write the YAML there (default: stdout).")]
    = None,
    as_json: output.AsJson = False,
) -> None:
    """Write a pipeline as a workflow in which each step runs `gannet pipeline step`
    (YAML; --json: the same document as JSON)."""
    import yaml

    from gannet.core.errors import InvalidArgument
    from gannet.pipelines.export import FORMATS, to_argo
    from gannet.pipelines.loading import load_pipeline
    from gannet.pipelines.parameters import parse_assignments

    if format_ not in FORMATS:
        raise InvalidArgument(f"no export format {format_!r}", f"use one of: {', '.join(FORMATS)}")
    graph = load_pipeline(target).build(**parse_assignments(params or []))
    workflow = to_argo(graph, target, image)
    if as_json and out is None:
        output.print_json(workflow)
        return
    text = yaml.safe_dump(workflow, sort_keys=False)
    if out is None:
        typer.echo(text, nl=False)
    else:
        from pathlib import Path

        Path(out).write_text(text)
        output.note(f"wrote {out}")


@app.command("step")
def step(
    ctx: typer.Context,
    target: Target,
    name: Annotated[str, typer.Argument(metavar="STEP", help="Which step to run.")],
    run_id: Annotated[str, typer.Option("--run", metavar="RUN",
                                        help="The pipeline run it belongs to (made by its "
                                             "first step).")],
    params: Params = None,
    as_json: output.AsJson = False,
) -> None:
    """Run one step of a pipeline run in this process (what each step of an exported
    workflow runs)."""
    from gannet.pipelines.loading import load_pipeline
    from gannet.pipelines.parameters import parse_assignments

    pipeline = load_pipeline(target)
    result = ctx.obj.services.pipelines.run_step(
        pipeline, parse_assignments(params or []), run_id, name, target=target)
    settled = result.step(name)
    if as_json:
        output.print_json({**result.to_dict(), "step": settled.to_dict()})
    else:
        _printer(False)(settled)
    if settled.status not in ("FINISHED", "SKIPPED"):
        raise typer.Exit(1)


def sweep(
    ctx: typer.Context,
    target: Target,
    params: Params = None,
    trials: Annotated[int, typer.Option("--trials", help="Trials to run in all.")] = 20,
    metric: Annotated[str, typer.Option("--metric", help="The metric a step logs (or a step "
                                        "whose output is a number) to optimise.")] = "",
    direction: Annotated[str, typer.Option("--direction", help="max or min.")] = "max",
    sampler: Annotated[str, typer.Option("--sampler", help="Optuna's tpe, random or "
                                         "grid.")] = "tpe",
    executor: ExecutorOption = None,
    address: AddressOption = None,
    parallel: Annotated[int, typer.Option("--parallel", help="Trials run at once.")] = 1,
    pruner: Annotated[str, typer.Option("--pruner", help="median (stop a trial whose "
                                        "reported values are worse than the median of "
                                        "finished trials) or none.")] = "median",
    register: Annotated[str | None, typer.Option(
        "--register", help="Register the best trial's model (the one a step returned) as a "
        "new version of this model.", show_default=False)] = None,
    register_step: Annotated[str | None, typer.Option(
        "--register-step", help="The step whose model to register, when several return "
        "one.", show_default=False)] = None,
    as_json: output.AsJson = False,
) -> None:
    """Search a pipeline's parameters with Optuna: --param "lr=loguniform(1e-4,1e-1)",
    uniform(a,b), int(a,b), choice(a,b,...); each trial a pipeline run nested in the sweep;
    trials a step reports badly for (gannet.pipelines.report) are pruned."""
    from gannet.core.errors import InvalidArgument
    from gannet.pipelines.loading import load_pipeline
    from gannet.pipelines.parameters import parse_assignments

    if not metric:
        raise InvalidArgument("a sweep needs --metric", "e.g. --metric val_auc --direction max")
    found = ctx.obj.services.pipelines.run_sweep(
        load_pipeline(target), parse_assignments(params or []), trials=trials, metric=metric,
        direction=direction, sampler=sampler, executor=executor or "processes",
        address=address, parallel=parallel, target=_absolute(target), pruner=pruner,
        register=register, register_step=register_step)
    if as_json:
        output.print_json(found.to_dict())
        return
    table = output.table("Trial", "Params", metric, "Run", "State")
    for t in found.trials:
        table.add_row(*map(output.text, (str(t.number), _params_text(t.params),
                                         "-" if t.value is None else f"{t.value:.6g}",
                                         t.run_id or "-", t.status)))
    output.show(table)
    if found.best is None:
        raise GannetError("no trial finished", f"see the trials' runs under {found.run_id}")
    output.say(f"best: trial {found.best.number} {_params_text(found.best.params)} "
               f"{metric}={found.best.value:.6g} (run {found.best.run_id})", style="bold")
    if found.registered:
        output.say(f"registered {found.registered}")


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in params.items())


def init(
    dest: Annotated[str, typer.Argument(metavar="DIR", help="A new (or empty) folder.")],
    template: Annotated[str, typer.Option("--template", "-t", help="Which project template: "
                                          "tabular-classification, or an installed one.")],
    as_json: output.AsJson = False,
) -> None:
    """Start a project from a template: a pipeline, its tests, gannet.toml and a CI workflow."""
    from gannet.pipelines.scaffold import init_project

    written = init_project(template, dest)
    if as_json:
        output.print_json({"template": template, "files": [str(p) for p in written]})
        return
    for path in written:
        output.say(f"  {path}")
    output.say(f"then: cd {dest} && gannet pipeline run pipeline.py", style="bold")


# -- helpers of the commands above --------------------------------------------------------------


def _absolute(target: str) -> str:
    from pathlib import Path

    if Path(target).is_file():
        return str(Path(target).resolve())
    path, sep, name = target.rpartition(":")
    return f"{Path(path).resolve()}:{name}" if sep else target


def _interruptible(work: Any) -> PipelineRun:
    try:
        return work()
    except KeyboardInterrupt:
        output.note("interrupted: the pipeline run is KILLED (gannet pipeline resume RUN goes on)")
        raise typer.Exit(130) from None


def _printer(as_json: bool, advance: Any = None, total: int = 0) -> Any:
    """A line per settled step (stderr with --json), and the progress bar moved."""
    settled: set[str] = set()

    def on_step(step: StepResult) -> None:
        if step.status == "RUNNING":
            return
        settled.add(step.name)
        if advance is not None:
            advance(len(settled), max(total, len(settled)))
        how = "cached" if step.cached else f"{step.duration_s:.2f} s"
        line = f"{MARKS.get(step.status, '?')} {step.name} {step.status} ({how})"
        if step.error:
            line += f": {step.error}"
        typer.echo(line, err=as_json)

    return on_step


def _report(run: PipelineRun, as_json: bool) -> None:
    cached = sum(s.cached for s in run.steps)
    if as_json:
        output.print_json(run.to_dict())
    else:
        output.say(f"pipeline run {run.run_id} {run.status}: {len(run.steps)} steps, "
                   f"{cached} cached", style=output.STATUS_STYLES.get(run.status))
        failed = [s for s in run.steps if s.status == "FAILED"]
        for step in failed:
            sys.stderr.write(step.traceback or "")
        if failed:
            output.note(f"see `gannet pipeline inspect {run.run_id} {failed[0].name}`; "
                        f"`gannet pipeline resume {run.run_id}` runs it again")
    if run.status != "FINISHED":
        raise typer.Exit(1)


def _show_run(run: PipelineRun, as_json: bool) -> None:
    if as_json:
        output.print_json({**run.to_dict(), "pipeline": run.pipeline, "params": run.params,
                           "target": run.target, "executor": run.executor})
        return
    table = output.table("Step", "Status", "Cached", "Duration", "Outputs",
                         title=f"{run.pipeline} ({run.run_id}, {run.status})")
    for s in run.steps:
        table.add_row(output.text(s.name), output.text(s.status,
                                                       output.STATUS_STYLES.get(s.status)),
                      output.text("yes" if s.cached else ""), output.text(f"{s.duration_s:.3f} s"),
                      output.text(", ".join(f"{k}: {v.type_name}" for k, v in s.outputs.items())))
    output.show(table)


def _graph_document(graph: Graph) -> dict[str, Any]:
    return {
        "name": graph.name,
        "parameters": graph.params,
        "steps": [{"name": n.name, "step": n.step.name, "outputs": list(n.step.output_names),
                   "upstream": sorted({o.node for o in n.upstream}),
                   "condition": None if n.condition is None else
                   f"{n.condition.node}.{n.condition.name}"}
                  for n in graph.nodes],
        "edges": [list(e) for e in graph.edges],
    }


def _tree(graph: Graph, parameters: list[Any]) -> Any:
    from rich.tree import Tree

    from gannet.pipelines.graph import outputs_in

    root = Tree(output.text(f"pipeline {graph.name}", "bold"))
    if parameters:
        branch = root.add(output.text("parameters"))
        for p in parameters:
            branch.add(output.text(f"{p.name}: {p.type_name} = {graph.params.get(p.name)!r}"))
    steps = root.add(output.text(f"steps ({len(graph.nodes)})"))
    for node in graph.nodes:
        item = steps.add(output.text(
            f"{node.name} -> {', '.join(node.step.output_names)}", "cyan"))
        for arg, value in node.inputs.items():
            sources = [f"{o.node}.{o.name}" for o in outputs_in(value)]
            item.add(output.text(f"{arg} <- {', '.join(sources)}" if sources
                                 else f"{arg} = {value!r}"))
        if node.condition is not None:
            item.add(output.text(f"when {node.condition.node}.{node.condition.name}", "yellow"))
    return root
