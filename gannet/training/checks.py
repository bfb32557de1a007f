"""What a policy names must exist: checked when it is applied (and in a dry run), each
thing asked of its own capability's service. A missing thing is a ``NotFound`` that names
it, the policy, and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gannet.core.errors import GannetError, InvalidArgument, NotFound
from gannet.training import triggers
from gannet.training.policy import substitute

if TYPE_CHECKING:
    from gannet.training.service import Parts
    from gannet.training.types import Policy

__all__ = ["check_policy", "dry_run"]


def _missing(policy: Policy, what: str, error: GannetError, hint: str) -> NotFound:
    return NotFound(f"policy {policy.name!r} names {what}, which does not exist "
                    f"({error.message})", hint)


def check_policy(policy: Policy, parts: Parts) -> None:
    try:
        parts.registry.get_registered_model(policy.model)
    except NotFound as exc:
        raise _missing(policy, f"registered model {policy.model!r}", exc,
                       "register a version first: gannet models register RUN_ID NAME") from None
    try:
        state = parts.deployments.get_deployment_state(policy.deployment)
    except NotFound as exc:
        raise _missing(policy, f"deployment {policy.deployment!r}", exc,
                       f"create it: gannet deployments create {policy.deployment} "
                       f"{policy.model}") from None
    if state.model != policy.model:
        raise InvalidArgument(f"policy {policy.name!r}: deployment {policy.deployment!r} "
                              f"serves model {state.model!r}, not {policy.model!r}",
                              "name a deployment of the policy's model")
    _check_pipeline(policy)
    for name in [*policy.datasets(), *([policy.evaluation.dataset]
                                        if policy.evaluation.dataset else [])]:
        try:
            parts.data.resolve(name)
        except NotFound as exc:
            raise _missing(policy, f"dataset {name!r}", exc,
                           f"add a version first: gannet data add PATH --name "
                           f"{name.split('@')[0]}") from None
    _check_monitoring(policy, parts)
    _check_gates(policy, parts)


def _check_pipeline(policy: Policy) -> None:
    from gannet.pipelines.loading import load_pipeline

    try:
        pipeline = load_pipeline(policy.pipeline.target)
    except NotFound as exc:
        raise _missing(policy, f"pipeline {policy.pipeline.target!r}", exc,
                       "give pipeline.file as FILE[:NAME], relative to the policy "
                       "file") from None
    names = policy.datasets()
    params = substitute(policy.pipeline.params, names[0] if names else None, 1)
    graph = pipeline.build(**params)  # a parameter it does not take fails here
    step = policy.pipeline.model_step
    if step is not None and step not in {n.name for n in graph.nodes}:
        raise NotFound(f"policy {policy.name!r}: pipeline {policy.pipeline.target} has no "
                       f"step {step!r}", f"its steps: "
                       f"{', '.join(n.name for n in graph.nodes)}")


def _check_monitoring(policy: Policy, parts: Parts) -> None:
    rules = {r["name"] for r in parts.alerts.list_alert_rules()}
    for trigger in policy.triggers:
        if trigger.kind == "alert" and trigger.alert not in rules:
            raise NotFound(f"policy {policy.name!r} names alert rule {trigger.alert!r}, "
                           "which does not exist",
                           "apply it first: gannet alerts apply RULES.yaml")
        if trigger.kind == "performance":
            try:
                parts.monitoring.get_monitor(str(trigger.monitor))
            except NotFound as exc:
                raise _missing(policy, f"monitor {trigger.monitor!r}", exc,
                               "create it: gannet monitor create DEPLOYMENT REFERENCE") \
                    from None


def _check_gates(policy: Policy, parts: Parts) -> None:
    if policy.evaluation.gates != "required":
        return
    from gannet.registry.gates import Policy as Gates

    model = parts.registry.get_registered_model(policy.model)
    if not model.policy or not Gates.from_yaml(model.policy).for_alias("champion"):
        raise NotFound(f"policy {policy.name!r} requires promotion gates for "
                       f"{policy.model}@champion, and the model has none",
                       f"set them: gannet models set-policy {policy.model} GATES.yaml")


def dry_run(policy: Policy, parts: Parts, sources: triggers.Sources,
            seen: dict[str, int] | None, now: int) -> dict[str, Any]:
    """What the controller would do with ``policy`` now: which triggers would fire (for a
    policy not applied yet: none, as triggers count what happens after it is applied),
    what it would run, how it would judge and roll out."""
    marks = seen if seen is not None else triggers.starting_watermarks(
        policy.triggers, sources, now)
    fired, _ = triggers.check(policy.triggers, marks, sources, now)
    names = policy.datasets()
    latest = parts.data.resolve(names[0]).version if names else None
    model = parts.registry.get_registered_model(policy.model)
    state = parts.deployments.get_deployment_state(policy.deployment)
    would = "retrain" if fired else "wait"
    why = "; ".join(f.reason for f in fired) if fired else (
        "no trigger fired since the policy was applied" if seen is not None else
        "a new policy's triggers count only what happens after it is applied")
    return {
        "policy": policy.name, "valid": True, "would": would, "why": why,
        "triggers": [{"trigger": t.describe(), "fires": any(f.trigger == triggers.key(t)
                                                            for f in fired)}
                     for t in policy.triggers],
        "pipeline": policy.pipeline.target,
        "params": substitute(policy.pipeline.params, names[0] if names else None, latest),
        "champion": model.aliases.get("champion"),
        "evaluation": {"dataset": policy.evaluation.dataset,
                       "metric": policy.evaluation.metric,
                       "min_improvement": policy.evaluation.min_improvement,
                       "gates": policy.evaluation.gates},
        "deployment": {"name": state.name, "revision": state.revision,
                       "routes": {r.ref: r.weight for r in state.routes}},
        "stages": [{"weight": s.weight, "duration_s": s.duration_s,
                    "min_requests": s.min_requests, "timeout_s": s.timeout_s,
                    "on_timeout": s.on_timeout, "approval": s.approval,
                    "guards": s.guards.to_dict()} for s in policy.stages],
    }
