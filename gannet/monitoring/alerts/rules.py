"""Alert rules from YAML, parsed without ``eval``.

A rules file::

    notifiers:
      oncall: {type: webhook, url: "https://hooks.slack.com/...", timeout: 5, retries: 3}
      team: {type: email, to: [ml-team@example.com], host: smtp.example.com, port: 25}
      audit: {type: log}
    rules:
      - name: churn-drift
        monitor: churn              # optional: every monitor
        when: drift.share > 0.3
        severity: warning           # info, warning or critical
        notify: [oncall, audit]
      - name: churn-auc
        when: performance.roc_auc < 0.8 for 2 windows
        severity: critical
        notify: [oncall]
        repeat: 1h                  # at most one page per rule and monitor this often

A condition is ``METRIC OP NUMBER`` with an optional ``for N windows``; METRIC is one of
the dotted names of ``gannet.monitoring.evaluate.flat_metrics`` (a missing metric never
fires), OP one of ``> >= < <= == !=``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gannet.core.durations import parse_duration
from gannet.core.errors import InvalidArgument

__all__ = ["Condition", "Rule", "RuleSet", "parse_condition", "parse_rules"]

SEVERITIES = ("info", "warning", "critical")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}
_CONDITION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w]*(?:\.[\w-]+)*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?:\s+for\s+(?P<windows>\d+)\s+windows?)?\s*$")


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: float
    windows: int = 1

    def holds(self, metrics: Mapping[str, float]) -> bool | None:
        """Whether it holds for one report's metrics (None: the metric is not there)."""
        found = metrics.get(self.metric)
        if found is None:
            return None
        return _OPERATORS[self.op](float(found), self.value)

    def __str__(self) -> str:
        tail = f" for {self.windows} windows" if self.windows > 1 else ""
        return f"{self.metric} {self.op} {self.value:g}{tail}"


def parse_condition(text: str) -> Condition:
    match = _CONDITION.match(text or "")
    if not match:
        raise InvalidArgument(
            f"cannot read the condition {text!r}",
            hint="write METRIC OP NUMBER [for N windows], e.g. 'drift.share > 0.3' or "
                 "'performance.roc_auc < 0.8 for 2 windows'")
    windows = int(match.group("windows") or 1)
    if windows < 1:
        raise InvalidArgument(f"{text!r}: 'for' needs at least 1 window")
    return Condition(match.group("metric"), match.group("op"), float(match.group("value")),
                     windows)


@dataclass
class Rule:
    name: str
    when: str
    severity: str = "warning"
    monitor: str | None = None
    notify: list[str] = field(default_factory=lambda: ["log"])
    repeat_s: float = 3600.0
    notifiers: dict[str, dict[str, Any]] = field(default_factory=dict)  # used ones, by name

    @property
    def condition(self) -> Condition:
        return parse_condition(self.when)

    def applies_to(self, monitor: str) -> bool:
        return self.monitor is None or self.monitor == monitor

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RuleSet:
    rules: dict[str, Rule]


def parse_rules(text: str, where: str = "the rules") -> RuleSet:
    """Rules from YAML text (see the module's docstring); InvalidArgument naming what is wrong."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{where} are not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise InvalidArgument(f"{where} must be a mapping with a list under 'rules'")
    notifiers = data.get("notifiers") or {}
    if not isinstance(notifiers, dict):
        raise InvalidArgument(f"'notifiers' in {where} must map names to settings")
    from gannet.monitoring.alerts.notifiers import check_notifier

    for name, settings in notifiers.items():
        check_notifier(str(name), settings)
    rules: dict[str, Rule] = {}
    for item in data.get("rules") or []:
        rule = _rule(item, notifiers, where)
        if rule.name in rules:
            raise InvalidArgument(f"rule {rule.name!r} is given twice in {where}")
        rules[rule.name] = rule
    return RuleSet(rules)


def _rule(item: Any, notifiers: Mapping[str, Any], where: str) -> Rule:
    if not isinstance(item, dict) or not item.get("name") or not item.get("when"):
        raise InvalidArgument(f"each rule in {where} needs a name and a 'when' condition, "
                              f"got {item!r}")
    name = str(item["name"])
    parse_condition(str(item["when"]))
    severity = str(item.get("severity", "warning"))
    if severity not in SEVERITIES:
        raise InvalidArgument(f"rule {name!r}: severity {severity!r} is not one of "
                              f"{', '.join(SEVERITIES)}")
    notify = item.get("notify", ["log"])
    notify = [notify] if isinstance(notify, str) else [str(n) for n in notify]
    unknown = [n for n in notify if n not in notifiers and n != "log"]
    if unknown:
        raise InvalidArgument(f"rule {name!r} notifies {', '.join(unknown)}, which "
                              f"{where} do not define", hint="add them under 'notifiers'")
    return Rule(name, str(item["when"]), severity,
                str(item["monitor"]) if item.get("monitor") else None, notify,
                parse_duration(item.get("repeat", "1h")),
                {n: dict(notifiers.get(n) or {"type": "log"}) for n in notify})
