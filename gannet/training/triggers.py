"""Whether a policy's triggers fired since it last looked, asked of the capabilities that
know: alert events (monitoring's alerts), cron windows, dataset versions (data), monitor
reports (monitoring).

Each trigger keeps a watermark in the policy's data (``seen``): the newest alert event,
window, dataset version or report it has acted on. The watermarks start at what exists
when the policy is applied, so only what happens afterwards fires; all of them move
together when a cycle starts, so triggers that fire at once start one retrain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gannet.core.errors import NotFound
from gannet.training.types import Trigger

__all__ = ["Fired", "Sources", "check", "key", "starting_watermarks"]


@dataclass(frozen=True)
class Sources:
    """What triggers read; bootstrap's services provide them (each one service call)."""

    alert_events: Callable[[str], list[dict[str, Any]]]  # rule -> events, newest first
    latest_dataset: Callable[[str], tuple[int, int] | None]  # name -> (version, made at)
    latest_report: Callable[[str], tuple[int, dict[str, float]] | None]  # monitor ->
    # (updated at, metrics) of its newest report


@dataclass(frozen=True)
class Fired:
    trigger: str  # its key
    reason: str
    numbers: dict[str, Any]


def key(trigger: Trigger) -> str:
    detail = trigger.alert or trigger.cron or trigger.dataset or \
        f"{trigger.monitor}/{trigger.metric}"
    return f"{trigger.kind}:{detail}"


def _position(trigger: Trigger, sources: Sources, now: int) -> int:
    """The trigger's newest event now: what a watermark is compared with."""
    if trigger.kind == "alert":
        events = [e for e in sources.alert_events(str(trigger.alert)) if e["state"] == "firing"]
        return max((int(e["time"]) for e in events), default=0)
    if trigger.kind == "schedule":
        from gannet.pipelines.scheduling import latest_window

        return latest_window(str(trigger.cron), now)
    if trigger.kind == "dataset":
        try:
            found = sources.latest_dataset(str(trigger.dataset))
        except NotFound:
            found = None
        return 0 if found is None else found[0]
    report = sources.latest_report(str(trigger.monitor))
    return 0 if report is None else report[0]


def starting_watermarks(triggers: tuple[Trigger, ...], sources: Sources, now: int
                        ) -> dict[str, int]:
    return {key(t): _position(t, sources, now) for t in triggers}


def check(triggers: tuple[Trigger, ...], seen: dict[str, int], sources: Sources, now: int
          ) -> tuple[list[Fired], dict[str, int]]:
    """(the triggers that fired, the watermarks to keep when a cycle starts)."""
    fired: list[Fired] = []
    marks = dict(seen)
    for trigger in triggers:
        name = key(trigger)
        position = _position(trigger, sources, now)
        last = seen.get(name, 0)
        marks[name] = max(position, last)
        if position <= last:
            continue
        if trigger.kind == "performance":
            report = sources.latest_report(str(trigger.monitor))
            value = None if report is None else report[1].get(str(trigger.metric))
            if value is None or trigger.min is None or value >= trigger.min:
                continue
            fired.append(Fired(name, f"{trigger.metric} of monitor {trigger.monitor} is "
                               f"{value:.4g}, below {trigger.min:g}",
                               {"value": value, "min": trigger.min}))
        elif trigger.kind == "dataset":
            fired.append(Fired(name, f"dataset {trigger.dataset} has a new version "
                               f"{position}", {"dataset": trigger.dataset,
                                               "version": position}))
        elif trigger.kind == "alert":
            fired.append(Fired(name, f"alert rule {trigger.alert} fired",
                               {"alert": trigger.alert, "fired_at": position}))
        else:
            fired.append(Fired(name, f"schedule {trigger.cron!r} reached its window",
                               {"window": position}))
    return fired, marks
