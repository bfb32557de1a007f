"""A training policy from YAML, checked without the stores (``TrainingService`` checks what
it names: the model, deployment, pipeline file, datasets, alert rules, monitors).

A policy::

    name: churn-ct                      # default: the model's name
    model: churn                        # the registered model it retrains
    deployment: churn                   # where the challenger is rolled out
    triggers:
      - alert: churn-drift              # an alert rule goes to firing
      - schedule: "0 3 * * *"           # a cron window (UTC)
      - dataset: churn-train            # a new version of a dataset
      - performance: {monitor: churn, metric: performance.accuracy, min: 0.8}
    pipeline:
      file: train.py:train              # FILE[:NAME], relative to the policy's folder
      params: {data: "${dataset}", seed: 1}
      model_step: train                 # the step that returns the model (default: the one)
      executor: local                   # local, processes or dask
    evaluation:
      dataset: churn-holdout            # held-out rows both models are scored on
      label: churned
      metric: accuracy                  # accuracy, precision, recall, f1, rmse, mae
      min_improvement: 0.01             # challenger - champion (lower: champion - challenger)
      gates: true                       # and the model's promotion gates for @champion
                                        # (required: it must have some; false: skip them)
    rollout:
      metrics: [http://127.0.0.1:8080]  # inference servers whose /metrics count errors
      stages:
        - weight: 10                    # percent of the deployment's traffic
          duration: 5m
          min_requests: 200
          timeout: 1h
          on_timeout: rollback          # rollback (default), promote or wait
          approval: required
          guards: {error_rate: 0.01, latency_p99_ms: 250, prediction_drift: 0.2,
                   performance: {metric: accuracy, min: 0.8, min_labels: 50}}
        - weight: 100

``${dataset}`` in a parameter is ``name@version`` of the dataset whose new version
triggered the retrain (else that dataset's latest version); ``${dataset.name}`` and
``${dataset.version}`` are its parts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gannet.core.durations import parse_duration
from gannet.core.errors import InvalidArgument
from gannet.training.types import (
    TIMEOUT_OUTCOMES,
    Evaluation,
    Guards,
    PipelineSpec,
    Policy,
    Stage,
    Trigger,
)

__all__ = ["parse_policy", "substitute"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_VARIABLE = re.compile(r"\$\{(dataset(?:\.name|\.version)?)\}")
_TOP = ("name", "model", "deployment", "triggers", "pipeline", "evaluation", "rollout")
HINT = "see docs/continuous-training.md for a complete policy"
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "rmse", "mae")
LOWER_IS_BETTER = ("rmse", "mae", "log_loss")


def parse_policy(text: str, where: str = "the policy", folder: Path | None = None) -> Policy:
    """The policy in YAML ``text``; a pipeline file's path is taken relative to
    ``folder`` (the policy file's)."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{where} is not valid YAML: {exc}", "fix the YAML") from exc
    if not isinstance(data, dict):
        raise InvalidArgument(f"{where} must be a mapping with {', '.join(_TOP)}", HINT)
    unknown = sorted(set(data) - set(_TOP))
    if unknown:
        raise InvalidArgument(f"{where} has unknown key(s) {', '.join(unknown)}",
                              f"a policy has: {', '.join(_TOP)}")
    model = _name(data.get("model"), "model", where)
    rollout = _mapping(data.get("rollout") or {}, "rollout", where)
    policy = Policy(
        name=_name(data.get("name") or model, "name", where),
        model=model,
        deployment=_name(data.get("deployment"), "deployment", where),
        triggers=tuple(_trigger(t, where) for t in _list(data.get("triggers"), "triggers",
                                                         where)),
        pipeline=_pipeline(data.get("pipeline"), where, folder or Path.cwd()),
        evaluation=_evaluation(data.get("evaluation") or {}, where),
        stages=tuple(_stage(s, i, where) for i, s in enumerate(
            _list(rollout.get("stages") or [{"weight": 100}], "rollout.stages", where))),
        metrics_urls=tuple(str(u).rstrip("/") for u in _list(rollout.get("metrics") or [],
                                                               "rollout.metrics", where)),
        source=text,
    )
    _check_whole(policy, where)
    return policy


def substitute(params: dict[str, Any], dataset: str | None, version: int | None
               ) -> dict[str, Any]:
    """``params`` with ``${dataset}``, ``${dataset.name}``, ``${dataset.version}`` filled."""
    values = {"dataset": f"{dataset}@{version}", "dataset.name": str(dataset),
              "dataset.version": str(version)}

    def fill(value: Any) -> Any:
        if not isinstance(value, str) or not _VARIABLE.search(value):
            return value
        if dataset is None or version is None:
            raise InvalidArgument(f"parameter value {value!r} names the triggering dataset, "
                                  "but no dataset version is known",
                                  "add a dataset trigger, or give the value itself")
        return _VARIABLE.sub(lambda m: values[m.group(1)], value)

    return {k: fill(v) for k, v in params.items()}


def _check_whole(policy: Policy, where: str) -> None:
    if not policy.triggers:
        raise InvalidArgument(f"{where} has no triggers", "add one, e.g. '- dataset: churn'")
    uses = any(isinstance(v, str) and _VARIABLE.search(v)
               for v in policy.pipeline.params.values())
    if uses and not policy.datasets():
        raise InvalidArgument(f"{where} uses ${{dataset}} in its parameters but has no "
                              "dataset trigger", "add '- dataset: NAME' to its triggers")
    weights = [s.weight for s in policy.stages]
    if weights != sorted(weights) or weights[-1] != 100:
        raise InvalidArgument(f"{where}: stage weights {weights} must rise to 100",
                              "e.g. weights 10, 50, 100")
    if any(s.guards.error_rate is not None for s in policy.stages) and not policy.metrics_urls:
        raise InvalidArgument(f"{where}: an error_rate guard needs the inference servers' "
                              "metrics", "list their base URLs under rollout.metrics")


def _trigger(spec: Any, where: str) -> Trigger:
    if isinstance(spec, dict) and len(spec) == 1:
        kind, value = next(iter(spec.items()))
        if kind == "alert":
            return Trigger("alert", alert=_name(value, "alert trigger", where))
        if kind == "schedule":
            from gannet.pipelines.scheduling import check_cron

            return Trigger("schedule", cron=check_cron(str(value)))
        if kind == "dataset":
            return Trigger("dataset", dataset=_name(value, "dataset trigger", where))
        if kind == "performance" and isinstance(value, dict):
            if not value.get("monitor") or not value.get("metric") or "min" not in value:
                raise InvalidArgument(f"{where}: a performance trigger needs monitor, metric "
                                      "and min", "e.g. {monitor: churn, metric: "
                                      "performance.accuracy, min: 0.8}")
            return Trigger("performance", monitor=str(value["monitor"]),
                           metric=str(value["metric"]), min=_number(value["min"], "min", where))
    raise InvalidArgument(f"{where}: cannot read trigger {spec!r}",
                          "a trigger is one of: alert: RULE, schedule: CRON, dataset: NAME, "
                          "performance: {monitor, metric, min}")


def _pipeline(spec: Any, where: str, folder: Path) -> PipelineSpec:
    if isinstance(spec, str):
        spec = {"file": spec}
    spec = _mapping(spec, "pipeline", where)
    if not spec.get("file"):
        raise InvalidArgument(f"{where}: the pipeline needs a file", "e.g. file: train.py:train")
    text = str(spec["file"])
    path, sep, name = text.rpartition(":") if ":" in text and not text.endswith(".py") else (
        text, "", "")
    target = f"{(folder / path).resolve()}{sep}{name}"
    params = _mapping(spec.get("params") or {}, "pipeline.params", where)
    executor = str(spec.get("executor", "local"))
    if executor not in ("local", "processes", "dask"):
        raise InvalidArgument(f"{where}: unknown executor {executor!r}",
                              "choose local, processes or dask")
    return PipelineSpec(target, {str(k): v for k, v in params.items()},
                        spec.get("model_step"), executor)


def _evaluation(spec: Any, where: str) -> Evaluation:
    spec = _mapping(spec, "evaluation", where)
    metric = str(spec.get("metric", "accuracy"))
    if metric not in METRICS:
        raise InvalidArgument(f"{where}: unknown evaluation metric {metric!r}",
                              f"choose one of: {', '.join(METRICS)}")
    direction = str(spec.get("direction", "lower" if metric in LOWER_IS_BETTER else "higher"))
    if direction not in ("higher", "lower"):
        raise InvalidArgument(f"{where}: direction must be higher or lower, got {direction!r}")
    return Evaluation(
        dataset=str(spec["dataset"]) if spec.get("dataset") else None,
        label=str(spec.get("label", "label")), metric=metric, direction=direction,
        min_improvement=_number(spec.get("min_improvement", 0.0), "min_improvement", where),
        gates=_gates(spec.get("gates", True), where),
    )


def _gates(value: Any, where: str) -> str:
    chosen = {True: "model", False: "none"}.get(value, value) if isinstance(value, bool) \
        else str(value)
    if chosen not in ("model", "required", "none"):
        raise InvalidArgument(f"{where}: evaluation.gates {value!r} is unknown",
                              "write true (the model's gates), required or false")
    return chosen


def _stage(spec: Any, index: int, where: str) -> Stage:
    spec = _mapping(spec, f"stage {index + 1}", where)
    weight = _number(spec.get("weight"), f"stage {index + 1} weight", where)
    if not 0 < weight <= 100:
        raise InvalidArgument(f"{where}: stage {index + 1} weight {weight:g} is not in (0, 100]",
                              "give a percent of traffic, e.g. 10")
    outcome = str(spec.get("on_timeout", "rollback"))
    if outcome not in TIMEOUT_OUTCOMES:
        raise InvalidArgument(f"{where}: stage {index + 1} on_timeout {outcome!r} is unknown",
                              f"choose one of: {', '.join(TIMEOUT_OUTCOMES)}")
    approval = spec.get("approval", False)
    if approval not in (False, None, "none", "required", True):
        raise InvalidArgument(f"{where}: stage {index + 1} approval {approval!r} is unknown",
                              "write approval: required")
    return Stage(weight=weight, duration_s=parse_duration(spec.get("duration", 0)),
                 min_requests=int(_number(spec.get("min_requests", 0), "min_requests", where)),
                 timeout_s=parse_duration(spec.get("timeout", "1h")), on_timeout=outcome,
                 approval=approval in ("required", True),
                 guards=_guards(spec.get("guards") or {}, where))


def _guards(spec: Any, where: str) -> Guards:
    spec = _mapping(spec, "guards", where)
    known = ("error_rate", "latency_p99_ms", "prediction_drift", "performance")
    unknown = sorted(set(spec) - set(known))
    if unknown:
        raise InvalidArgument(f"{where}: unknown guard(s) {', '.join(unknown)}",
                              f"guards are: {', '.join(known)}")
    perf = _mapping(spec.get("performance") or {}, "guards.performance", where)
    if perf and (not perf.get("metric") or "min" not in perf):
        raise InvalidArgument(f"{where}: a performance guard needs metric and min",
                              "e.g. {metric: accuracy, min: 0.8}")

    def limit(key: str) -> float | None:
        return None if spec.get(key) is None else _number(spec[key], key, where)

    return Guards(error_rate=limit("error_rate"), latency_p99_ms=limit("latency_p99_ms"),
                  prediction_drift=limit("prediction_drift"),
                  performance_metric=str(perf["metric"]) if perf else None,
                  performance_min=_number(perf["min"], "min", where) if perf else None,
                  min_labels=int(perf.get("min_labels", 10)) if perf else 10)


def _name(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidArgument(f"{where}: {what} must be a name (letters, digits, . _ -), "
                              f"got {value!r}", HINT)
    return value


def _number(value: Any, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"{where}: {what} must be a number, got {value!r}", HINT)
    return float(value)


def _mapping(value: Any, what: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument(f"{where}: {what} must be a mapping, got {value!r}", HINT)
    return value


def _list(value: Any, what: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidArgument(f"{where}: {what} must be a list, got {value!r}", HINT)
    return value
