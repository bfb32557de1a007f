"""Sweeps: one pipeline run many times with parameters an Optuna sampler chooses.

A parameter's search space is written as text: ``loguniform(1e-4,1e-1)``,
``uniform(0,1)``, ``int(2,10)`` or ``choice(gbm,logreg)``; anything else is a fixed value.
Each trial is a pipeline run nested under the sweep's run (``mlflow.parentRunId``), so
the steps' cache serves what trials share; its value is the metric of that name that a
step logged (``log_metric``), or the output of a step of that name. The best trial's
parameters and value are logged on the sweep's run. With a pruner (``median``, the
default), a trial whose step reports intermediate values (``report``) worse than the
finished trials' is stopped: its pipeline run ends PRUNED (``pruning``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gannet.core.errors import GannetError, InvalidArgument, Unavailable
from gannet.pipelines.pruning import TrialRef, journal_storage, pruner_named

if TYPE_CHECKING:
    from pathlib import Path

    from gannet.pipelines.dsl import Pipeline
    from gannet.pipelines.service import PipelineService
    from gannet.pipelines.types import PipelineRun

SAMPLERS = ("tpe", "random", "grid")
_SPACE = re.compile(r"^\s*(loguniform|uniform|int|choice)\((.*)\)\s*$")


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    value: float | None
    run_id: str | None
    status: str


@dataclass
class Sweep:
    run_id: str
    metric: str
    direction: str
    trials: list[Trial] = field(default_factory=list)
    best: Trial | None = None
    registered: str | None = None  # the model version made of the best trial's model

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "metric": self.metric, "direction": self.direction,
                "best": None if self.best is None else self.best.__dict__,
                "trials": [t.__dict__ for t in self.trials], "registered": self.registered}


def parse_space(values: dict[str, str]) -> tuple[dict[str, tuple[str, list[str]]], dict[str, str]]:
    """(searched parameters: name -> (kind, arguments), fixed parameters)."""
    space, fixed = {}, {}
    for name, text in values.items():
        found = _SPACE.match(text)
        if found is None:
            fixed[name] = text
            continue
        kind, arguments = found.group(1), [a.strip() for a in found.group(2).split(",")]
        if kind != "choice" and len(arguments) != 2:
            raise InvalidArgument(f"--param {name}={text}: {kind} takes a low and a high bound",
                                  f"e.g. --param '{name}={kind}(1e-4,1e-1)'")
        if kind != "choice":
            _check_bounds(name, text, kind, arguments)
        space[name] = (kind, arguments)
    if not space:
        raise InvalidArgument("a sweep needs at least one parameter with a search space",
                              "e.g. --param 'lr=loguniform(1e-4,1e-1)' or 'model=choice(a,b)'")
    return space, fixed


def _check_bounds(name: str, text: str, kind: str, arguments: list[str]) -> None:
    number = int if kind == "int" else float
    try:
        low, high = (number(a) for a in arguments)
    except ValueError:
        raise InvalidArgument(f"--param {name}={text}: the bounds are not numbers",
                              f"e.g. --param '{name}={kind}(1,10)'") from None
    if low >= high or (kind == "loguniform" and low <= 0):
        raise InvalidArgument(f"--param {name}={text}: the bounds must be increasing"
                              + (" and positive" if kind == "loguniform" else ""))


def run_sweep(
    service: PipelineService,
    pipeline: Pipeline,
    values: dict[str, str],
    *,
    trials: int,
    metric: str,
    direction: str = "max",
    sampler: str = "tpe",
    executor: str = "processes",
    address: str | None = None,
    parallel: int = 1,
    target: str = "",
    pruner: str = "median",
    register: str | None = None,
    register_step: str | None = None,
) -> Sweep:
    """Run ``trials`` trials of ``pipeline``; the sweep with its best trial. ``pruner``:
    ``median`` stops trials whose reported values are worse than the median, ``none``.
    ``address``: the Dask scheduler the ``dask`` executor ships the trials' steps to.
    ``register``: the model the best trial's step (``register_step``'s) returned becomes a
    version of it."""
    optuna = _optuna()
    space, fixed = parse_space(values)
    if direction not in ("max", "min"):
        raise InvalidArgument(f"direction {direction!r}", "use max or min")
    chosen_pruner = pruner_named(optuna, pruner)
    # the parameters are checked (names, types) before the first trial
    pipeline.build(**fixed, **{k: _probe(kind, args) for k, (kind, args) in space.items()})
    parent = service.recorder.start_sweep(pipeline.name, target, values)
    sweep = Sweep(parent, metric, direction)
    journal = service.settings.home / "cache" / "sweeps" / f"{parent}.journal"

    def objective(trial: Any) -> float:
        params = {**fixed, **{k: _suggest(trial, k, kind, args)
                              for k, (kind, args) in space.items()}}
        ref = None if pruner == "none" else TrialRef(
            str(journal), parent, trial._trial_id, trial.number, pruner)
        run = service.run_pipeline(pipeline, params, target=target, executor=executor,
                                   address=address, parent_run_id=parent, trial=ref)
        trial.set_user_attr("run_id", run.run_id)
        if run.status == "PRUNED":
            raise optuna.TrialPruned(f"trial {trial.number}: its run {run.run_id} was pruned")
        value = metric_of(service, run, metric)
        if value is None or math.isnan(value):
            raise InvalidArgument(f"trial {trial.number}: run {run.run_id} ({run.status}) has "
                                  f"no metric {metric!r}", "log it in a step with log_metric")
        return value

    study = optuna.create_study(
        direction="maximize" if direction == "max" else "minimize", study_name=parent,
        sampler=_sampler(optuna, sampler, space), pruner=chosen_pruner,
        storage=None if pruner == "none" else journal_storage(optuna, journal))
    try:
        study.optimize(objective, n_trials=trials, n_jobs=parallel, catch=(GannetError,))
    finally:
        _collect(sweep, study)
        _finish(service, sweep, journal)
    sweep.registered = _register_best(service, sweep, register, register_step)
    return sweep


def _register_best(service: PipelineService, sweep: Sweep, name: str | None,
                   step: str | None) -> str | None:
    """The best trial's model as a new version of ``name`` (``NAME/VERSION``), if asked."""
    if not name or sweep.best is None or not sweep.best.run_id:
        return None
    return service.register_output_model(sweep.best.run_id, name, step=step,
                                         tags={"gannet.sweep": sweep.run_id})


def metric_of(service: PipelineService, run: PipelineRun, metric: str) -> float | None:
    """The metric a step of ``run`` logged under ``metric``, else the output of a step of
    that name, when it is a number."""
    for step in run.steps:
        if step.step_run_id is not None:
            found = service.tracking.get_run(step.step_run_id).data.metrics.get(metric)
            if found is not None:
                return float(found)
    for step in run.steps:
        if step.name == metric and len(step.outputs) == 1:
            value = service.load_stored(next(iter(step.outputs.values())))
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    return None


def _suggest(trial: Any, name: str, kind: str, args: list[str]) -> Any:
    if kind == "choice":
        return trial.suggest_categorical(name, args)
    if kind == "int":
        return trial.suggest_int(name, int(args[0]), int(args[1]))
    return trial.suggest_float(name, float(args[0]), float(args[1]), log=kind == "loguniform")


def _probe(kind: str, args: list[str]) -> Any:
    """A value of the space, to check the parameters before the first trial."""
    if kind == "choice":
        return args[0]
    return int(args[0]) if kind == "int" else float(args[0])


def _sampler(optuna: Any, name: str, space: dict[str, tuple[str, list[str]]]) -> Any:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=0)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=0)
    if name == "grid":
        if any(kind not in ("choice", "int") for kind, _ in space.values()):
            raise InvalidArgument("the grid sampler needs choice(...) or int(...) spaces",
                                  "use --sampler tpe or random for continuous ranges")
        grid = {k: (args if kind == "choice" else list(range(int(args[0]), int(args[1]) + 1)))
                for k, (kind, args) in space.items()}
        return optuna.samplers.GridSampler(grid, seed=0)
    raise InvalidArgument(f"no sampler {name!r}", f"use one of: {', '.join(SAMPLERS)}")


def _collect(sweep: Sweep, study: Any) -> None:
    for t in study.trials:
        value = t.value if t.value is not None else None
        sweep.trials.append(Trial(t.number, dict(t.params), value, t.user_attrs.get("run_id"),
                                  t.state.name))
    # a pruned trial's value is its last reported one: never the best
    finished = [t for t in sweep.trials if t.value is not None and t.status == "COMPLETE"]
    if finished:
        pick = max if sweep.direction == "max" else min
        sweep.best = pick(finished, key=lambda t: t.value or 0.0)


def _finish(service: PipelineService, sweep: Sweep, journal: Path) -> None:
    """The best trial on the sweep's run, which ends; the pruner's journal goes."""
    from gannet.tracking.types import Metric

    for left in journal.parent.glob(f"{journal.name}*"):  # and its lock files
        left.unlink(missing_ok=True)

    best = sweep.best
    if best is not None and best.value is not None:
        service.tracking.log_batch(
            sweep.run_id, metrics=[Metric(f"best_{sweep.metric}", best.value, 0, 0)],
            tags={"gannet.sweep.best_run": best.run_id or "",
                  **{f"gannet.sweep.best.{k}": str(v) for k, v in best.params.items()}})
    service.recorder.end(sweep.run_id, "FINISHED" if best is not None else "FAILED")


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise Unavailable("sweeps need Optuna", "pip install 'gannet-mlops[sweeps]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna
