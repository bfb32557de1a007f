"""The responsible-AI promotion gates: fairness, explanation, feature importance.

They read the candidate's stored reports (``gannet models explain`` / ``fairness``)::

    - fairness:                      # a disparity of the fairness report, per attribute
        metric: equalized_odds_difference
        max: 0.1                     # (or min:, e.g. for demographic_parity_ratio)
        groups: [sex, age_band]      # attributes, or an intersection: sex+age_band
        include_small: false         # groups under min_group_size count too (default no)
    - explanation: {required: true}  # an explanation must be stored with the version
    - feature_importance:            # a feature that must not drive decisions
        forbid: [zip_code]
        top_k: 3                     # fails when it ranks among the top 3 ...
        max_share: 0.05              # ... or carries more than 5% of the importance

A gate whose report is missing fails, and says which command makes it.
"""

from __future__ import annotations

from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.registry.types import Evidence, GateResult

KINDS = ("fairness", "explanation", "feature_importance")
_DOCS = "see docs/responsible-ai.md"


def check_spec(kind: str, spec: dict[str, Any]) -> None:
    """Refuse a malformed gate when the policy is set, not when it is evaluated."""
    body = spec[kind]
    if kind == "explanation":
        if not isinstance(body, dict) or not isinstance(body.get("required", True), bool):
            raise InvalidArgument("an explanation gate is {explanation: {required: true}}", _DOCS)
        return
    if not isinstance(body, dict):
        raise InvalidArgument(f"gate {kind} needs a mapping", _DOCS)
    if kind == "fairness":
        if not body.get("metric") or ("max" not in body and "min" not in body):
            raise InvalidArgument(
                f"fairness gate {body!r} needs a metric and max or min",
                "e.g. {fairness: {metric: equalized_odds_difference, max: 0.1}}")
        if not isinstance(body.get("groups", []), list):
            raise InvalidArgument("the groups of a fairness gate must be a list", _DOCS)
        return
    forbid = body.get("forbid")
    if not isinstance(forbid, list) or not forbid:
        raise InvalidArgument("a feature_importance gate needs forbid: [features...]",
                              "e.g. {feature_importance: {forbid: [zip_code]}}")


def evaluate(kind: str, body: Any, ev: Evidence) -> GateResult:
    if kind == "explanation":
        required = body.get("required", True) if isinstance(body, dict) else True
        found = ev.reports.get("explanation")
        if found is None:
            return GateResult("explanation", not required,
                              "no explanation stored (gannet models explain "
                              f"{ev.candidate.ref} --data ... --target ...)")
        return GateResult("explanation", True, f"explained on {found.data_source}")
    if kind == "fairness":
        return _fairness(body, ev)
    return _importance(body, ev)


def _fairness(body: dict[str, Any], ev: Evidence) -> GateResult:
    metric = str(body["metric"])
    name = f"fairness({metric})"
    found = ev.reports.get("fairness")
    if found is None:
        return GateResult(name, False, "no fairness report stored (gannet models fairness "
                                       f"{ev.candidate.ref} --data ... --sensitive ...)")
    attributes = found.report.get("attributes", {})
    low, high = body.get("min"), body.get("max")
    which = "disparities_all" if body.get("include_small") else "disparities"
    problems: list[str] = []
    fine: list[str] = []
    for group in body.get("groups") or list(attributes):
        if group not in attributes:
            problems.append(f"{group}: not in the fairness report (computed for "
                            f"{', '.join(attributes) or 'nothing'})")
            continue
        value = attributes[group].get(which, {}).get(metric)
        if value is None:
            problems.append(f"{group}: no {metric} (too few groups large enough)")
            continue
        ok = (low is None or value >= float(low)) and (high is None or value <= float(high))
        small = attributes[group].get("small_groups") or []
        note = f" (small groups not gated: {', '.join(small)})" if small and \
            which == "disparities" else ""
        (fine if ok else problems).append(f"{group}: {metric} = {value:.4g}{note}")
    bound = " and ".join(b for b in (f">= {low}" if low is not None else "",
                                     f"<= {high}" if high is not None else "") if b)
    detail = "; ".join(problems or fine) + f" (needs {bound})"
    return GateResult(name, not problems, detail)


def _importance(body: dict[str, Any], ev: Evidence) -> GateResult:
    forbid = [str(f) for f in body["forbid"]]
    name = f"feature_importance(forbid {', '.join(forbid)})"
    found = ev.reports.get("explanation")
    if found is None:
        return GateResult(name, False, "no explanation stored (gannet models explain "
                                       f"{ev.candidate.ref} --data ... --target ...)")
    source = body.get("source") or ("shap" if found.report.get("shap") else "permutation")
    ranking = (found.report.get(source) or {}).get("features", [])
    if not ranking:
        return GateResult(name, False, f"the explanation has no {source} importance")
    top_k, max_share = int(body.get("top_k", 3)), body.get("max_share", 0.05)
    positions = {item["feature"]: (i + 1, item["share"]) for i, item in enumerate(ranking)}
    problems: list[str] = []
    fine: list[str] = []
    for feature in forbid:
        if feature not in positions:
            fine.append(f"{feature}: not a model input")
            continue
        rank, share = positions[feature]
        bad = rank <= top_k or (max_share is not None and share > float(max_share))
        (problems if bad else fine).append(
            f"{feature}: rank {rank} of {len(ranking)}, share {share:.1%} ({source})")
    limit = f"top {top_k}" + (f" or share > {float(max_share):.1%}" if max_share is not None
                              else "")
    return GateResult(name, not problems, "; ".join(problems or fine) + f" (forbidden: {limit})")
