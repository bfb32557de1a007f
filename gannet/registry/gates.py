"""Promotion gates: what a version must show before an alias may point at it.

A policy is YAML, one list of gates per alias::

    aliases:
      champion:
        - metric: auc                 # a threshold on the version's metrics
          min: 0.90
        - better_than_current:        # beat the version the alias points at now
            metric: auc
            by: 0.002                 # at least this much (direction: higher|lower)
        - slices:                     # no segment may regress (metrics slice/<name>/<metric>)
            metric: auc
            names: [female, male]
            max_drop: 0.01
        - data_validation: passed     # the run's tag gannet.validation is "passed"
        - approval:                   # someone holding this role approved the version
            role: ml-lead
        - fairness: {metric: equalized_odds_difference, max: 0.1, groups: [sex]}
        - explanation: {required: true}
        - feature_importance: {forbid: [zip_code]}

(the last three read the version's responsible-AI reports: ``rai_gates``)

Gates only read; ``promote`` runs them all, reports each, and moves the alias only when
every one passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.registry import rai_gates
from gannet.registry.types import Evidence, GateResult, ModelVersion

_KINDS = ("metric", "better_than_current", "slices", "data_validation", "approval",
          *rai_gates.KINDS)


@dataclass(frozen=True)
class Policy:
    gates: dict[str, list[dict[str, Any]]]  # alias -> gate specs

    @classmethod
    def from_yaml(cls, text: str) -> Policy:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"the policy is not valid YAML: {exc}", "fix the YAML") from exc
        if not isinstance(data, dict) or not isinstance(data.get("aliases", {}), dict):
            raise InvalidArgument(
                "a policy is a mapping with 'aliases: {<alias>: [gates...]}'",
                "see docs/models.md for an example policy",
            )
        gates: dict[str, list[dict[str, Any]]] = {}
        for alias, specs in (data.get("aliases") or {}).items():
            if not isinstance(specs, list):
                raise InvalidArgument(
                    f"the gates of alias {alias!r} must be a list", "write '- metric: ...' items"
                )
            gates[str(alias)] = [_check_spec(alias, spec) for spec in specs]
        return cls(gates)

    def for_alias(self, alias: str) -> list[dict[str, Any]]:
        return self.gates.get(alias, [])


def _check_spec(alias: str, spec: object) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise InvalidArgument(f"gate {spec!r} of alias {alias!r} is not a mapping", _KIND_HINT)
    kind = next((k for k in _KINDS if k in spec), None)
    if kind is None:
        raise InvalidArgument(f"unknown gate {spec!r} for alias {alias!r}", _KIND_HINT)
    if kind == "metric" and "min" not in spec and "max" not in spec:
        raise InvalidArgument(
            f"metric gate {spec!r} needs min or max", "e.g. {metric: auc, min: 0.9}"
        )
    if kind in ("better_than_current", "slices") and not isinstance(spec[kind], dict):
        raise InvalidArgument(f"gate {kind} needs a mapping with 'metric'", "see docs/models.md")
    if kind in ("better_than_current", "slices") and "metric" not in spec[kind]:
        raise InvalidArgument(f"gate {kind} needs 'metric'", "see docs/models.md")
    if kind == "approval" and not (isinstance(spec[kind], dict) and spec[kind].get("role")):
        raise InvalidArgument("an approval gate needs a role", "e.g. {approval: {role: ml-lead}}")
    if kind in rai_gates.KINDS:
        rai_gates.check_spec(kind, spec)
    return spec


_KIND_HINT = f"each gate is one of: {', '.join(_KINDS)} (see docs/models.md)"


def evaluate(specs: list[dict[str, Any]], evidence: Evidence) -> list[GateResult]:
    return [_evaluate_one(spec, evidence) for spec in specs]


def _evaluate_one(spec: dict[str, Any], ev: Evidence) -> GateResult:
    if "metric" in spec:
        return _threshold(spec, ev.candidate)
    if "better_than_current" in spec:
        return _better(spec["better_than_current"], ev)
    if "slices" in spec:
        return _slices(spec["slices"], ev)
    if "data_validation" in spec:
        state = ev.run_tags.get("gannet.validation")
        ok = state == str(spec["data_validation"])
        why = "no data validation result (tag gannet.validation)" if state is None else state
        return GateResult("data_validation", ok, f"validation: {why}")
    kind = next((k for k in rai_gates.KINDS if k in spec), None)
    if kind is not None:
        return rai_gates.evaluate(kind, spec[kind], ev)
    role = spec["approval"]["role"]
    approvers = [a.user_id for a in ev.approvals if role in a.roles]
    detail = f"approved by {', '.join(approvers)}" if approvers else f"no approval by a {role}"
    return GateResult(f"approval({role})", bool(approvers), detail)


def _value(version: ModelVersion, key: str) -> float | None:
    value = version.metrics.get(key)
    return None if value is None or math.isnan(value) else float(value)


def _threshold(spec: dict[str, Any], candidate: ModelVersion) -> GateResult:
    key = spec["metric"]
    value = _value(candidate, key)
    name = f"metric({key})"
    if value is None:
        return GateResult(name, False, f"version has no metric {key!r}")
    low, high = spec.get("min"), spec.get("max")
    ok = (low is None or value >= float(low)) and (high is None or value <= float(high))
    bounds = " and ".join(
        b
        for b in (f">= {low}" if low is not None else "", f"<= {high}" if high is not None else "")
        if b
    )
    return GateResult(name, ok, f"{key} = {value:.6g}, needs {bounds}")


def _better(spec: dict[str, Any], ev: Evidence) -> GateResult:
    key, by = spec["metric"], float(spec.get("by", 0.0))
    lower = spec.get("direction", "higher") == "lower"
    name = f"better_than_current({key})"
    mine = _value(ev.candidate, key)
    if mine is None:
        return GateResult(name, False, f"version has no metric {key!r}")
    if ev.current is None:
        return GateResult(name, True, "no current holder of the alias: nothing to beat")
    theirs = _value(ev.current, key)
    if theirs is None:
        return GateResult(name, True, f"current holder v{ev.current.version} has no {key!r}")
    gain = (theirs - mine) if lower else (mine - theirs)
    ok = gain >= by
    return GateResult(
        name,
        ok,
        f"{key} {mine:.6g} vs v{ev.current.version} {theirs:.6g}: "
        f"gain {gain:+.6g}, needs >= {by:g}",
    )


def _slices(spec: dict[str, Any], ev: Evidence) -> GateResult:
    key, max_drop = spec["metric"], float(spec.get("max_drop", 0.0))
    lower = spec.get("direction", "higher") == "lower"
    problems, checked = [], []
    for slice_name in spec.get("names", []):
        metric = f"slice/{slice_name}/{key}"
        mine = _value(ev.candidate, metric)
        if mine is None:
            problems.append(f"{slice_name}: no metric {metric!r}")
            continue
        theirs = _value(ev.current, metric) if ev.current else None
        if theirs is None:
            checked.append(f"{slice_name}={mine:.4g}")
            continue
        drop = (mine - theirs) if lower else (theirs - mine)
        (problems if drop > max_drop else checked).append(
            f"{slice_name}: {mine:.4g} vs {theirs:.4g} (drop {drop:+.4g}, allowed {max_drop:g})"
        )
    detail = "; ".join(problems or checked) or "no slices named"
    return GateResult(f"slices({key})", not problems, detail)
