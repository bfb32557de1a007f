"""``AlertService``: rules applied from YAML, judged on every new report, paged once.

Per rule and monitor a state is kept: ``ok``, ``pending`` (the condition held for fewer
windows than the rule's ``for N windows``) or ``firing``. Going to ``firing`` and back to
``ok`` are events (``gannet alerts history``). A firing event pages the rule's notifiers
unless the rule is silenced or it paged for this monitor less than ``repeat`` ago (a
flapping metric pages once per ``repeat``, 1 h by default); a resolution pages only when
its firing did. A window judged again (still open, or scored again with late labels)
counts once; a window older than the last one judged is not judged again.
Deliveries run in background threads, one per notifier, in order
(``wait_for_deliveries``): a slow webhook never holds a monitor run up; each delivery's
outcome is written to its event.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any

from gannet.core.actor import EDITOR, READER, require_anywhere, restricted
from gannet.core.clock import now_ms
from gannet.core.errors import NotFound, PermissionDenied
from gannet.core.ids import new_id
from gannet.monitoring import repository
from gannet.monitoring.alerts.notifiers import AlertNotice, deliver, make_notifier
from gannet.monitoring.alerts.rules import Rule, parse_rules

if TYPE_CHECKING:
    from gannet.monitoring.types import MonitorReport
    from gannet.store.metadata import MetadataStore

__all__ = ["AlertService"]


class AlertService:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata
        self._queues: dict[str, queue.Queue[tuple[Rule, AlertNotice, str]]] = {}
        self._lock = threading.Lock()

    def apply_alert_rules(self, text: str, where: str = "the rules") -> list[Rule]:
        """Replace the stored rules with those of a YAML document (checked first). Only
        an administrator may, on a team server: rules name the webhooks and mail servers
        the server will send to."""
        if (actor := restricted()) is not None:
            raise PermissionDenied(
                f"{actor.user} may not replace the alert rules: only an administrator may "
                "(rules name where the server sends alerts)",
                hint="ask an administrator to apply them (gannet alerts apply)")
        rules = parse_rules(text, where).rules
        with self.metadata.write() as conn:
            repository.put_rules(conn, {n: r.to_dict() for n, r in rules.items()}, now_ms())
        return list(rules.values())

    def list_alert_rules(self) -> list[dict[str, Any]]:
        """Each rule with its states (per monitor)."""
        require_anywhere(READER, "read alert rules")
        with self.metadata.read() as conn:
            rules = repository.list_rules(conn)
            states = repository.states(conn)
        return [{**rule, "states": [s for s in states if s["rule"] == name]}
                for name, rule in rules.items()]

    def get_alert_history(self, rule: str | None = None, limit: int = 100
                          ) -> list[dict[str, Any]]:
        require_anywhere(READER, "read alert history")
        with self.metadata.read() as conn:
            return repository.list_events(conn, rule, limit)

    def silence_alert(self, rule: str, seconds: float, monitor: str | None = None,
                      *, now: int | None = None) -> int:
        """No page from ``rule`` (for one monitor, or all) for ``seconds``; until when (ms)."""
        require_anywhere(EDITOR, "silence alerts")
        now = now_ms() if now is None else now
        until = now + int(seconds * 1000)
        with self.metadata.write() as conn:
            rules = repository.list_rules(conn)
            if rule not in rules:
                raise NotFound(f"no alert rule named {rule!r}",
                               hint="gannet alerts list shows the rules")
            monitors = [monitor] if monitor else sorted(
                {s["monitor"] for s in repository.states(conn, rule)} or {"*"})
            for name in monitors:
                state = _state_of(conn, rule, name, now)
                repository.put_state(conn, {**state, "silenced_until": until})
        return until

    def evaluate_reports(self, monitor: str, reports: list[MonitorReport], *,
                         now: int | None = None) -> list[dict[str, Any]]:
        """Judge ``reports`` (oldest first) against every rule; the events it made."""
        now = now_ms() if now is None else now
        events: list[dict[str, Any]] = []
        with self.metadata.write() as conn:
            rules = {n: Rule(**r) for n, r in repository.list_rules(conn).items()}
            for rule in (r for r in rules.values() if r.applies_to(monitor)):
                state = _state_of(conn, rule.name, monitor, now)
                everywhere = _state_of(conn, rule.name, "*", now)["silenced_until"]
                if everywhere and everywhere > (state["silenced_until"] or 0):
                    state["silenced_until"] = everywhere
                for report in sorted(reports, key=lambda r: r.window_start):
                    event = _judge(rule, state, report, now)
                    if event is not None:
                        repository.add_event(conn, event)
                        events.append(event)
                repository.put_state(conn, state)
        for event in events:
            self._dispatch(rules[event["rule"]], event)
        return events

    def wait_for_deliveries(self, timeout: float = 30.0) -> bool:
        """Wait (up to ``timeout`` s) for pages under way; True when all are done."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = any(q.unfinished_tasks for q in self._queues.values())
            if not busy:
                return True
            time.sleep(0.01)
        return False

    def _dispatch(self, rule: Rule, event: dict[str, Any]) -> None:
        """Queue the event's pages: one worker per notifier sends them in order."""
        notice = AlertNotice(event["rule"], event["monitor"], event["state"], event["severity"],
                             rule.when, event["value"], event["message"], event["time"])
        for name, result in event["delivery"].items():
            if result == "pending":
                self._queue(name).put((rule, notice, event["id"]))

    def _queue(self, name: str) -> queue.Queue[tuple[Rule, AlertNotice, str]]:
        with self._lock:
            found = self._queues.get(name)
            if found is None:
                found = self._queues[name] = queue.Queue()
                threading.Thread(target=self._work, args=(name, found), daemon=True,
                                 name=f"gannet-alerts-{name}").start()
            return found

    def _work(self, name: str, jobs: queue.Queue[tuple[Rule, AlertNotice, str]]) -> None:
        while True:
            rule, notice, event_id = jobs.get()
            try:
                self._send(rule, name, notice, event_id)
            finally:
                jobs.task_done()

    def _send(self, rule: Rule, name: str, notice: AlertNotice, event_id: str) -> None:
        settings = rule.notifiers.get(name) or {"type": "log"}
        try:
            result = deliver(make_notifier(settings), notice)
        except Exception as exc:  # a notifier that cannot even be made
            result = f"failed: {type(exc).__name__}: {exc}"
        with self.metadata.write() as conn:
            repository.set_delivery(conn, event_id, name, result)


def _state_of(conn: Any, rule: str, monitor: str, now: int) -> dict[str, Any]:
    for state in repository.states(conn, rule):
        if state["monitor"] == monitor:
            return state
    return {"rule": rule, "monitor": monitor, "state": "ok", "breaches": 0, "since": now,
            "value": None, "last_notified": None, "silenced_until": None, "last_window": None}


def _judge(rule: Rule, state: dict[str, Any], report: MonitorReport, now: int
           ) -> dict[str, Any] | None:
    """Move ``state`` on by one report; the event it makes, if any."""
    condition = rule.condition
    holds = condition.holds(report.metrics)
    last = state["last_window"]
    if holds is None or (last is not None and report.window_start < last):
        return None  # no such metric yet, or an older window than the one judged last
    value = report.metrics.get(condition.metric)
    state["value"] = value
    if holds:
        if state["last_window"] != report.window_start:
            state["breaches"] += 1
        state["last_window"] = report.window_start
        if state["breaches"] < condition.windows:
            state["state"] = "pending"
            return None
        if state["state"] == "firing":
            return None
        state.update(state="firing", since=now)
        page = _may_page(rule, state, now)
        if page is True:
            state["last_notified"] = now
        return _event(rule, state, "firing", value, now, page)
    state["breaches"], state["last_window"] = 0, report.window_start
    if state["state"] != "firing":
        state["state"] = "ok"
        return None
    paged = state["last_notified"] is not None and state["last_notified"] >= state["since"]
    state.update(state="ok", since=now)
    return _event(rule, state, "resolved", value, now, True if paged else "not paged: "
                  "its firing was not paged")


def _may_page(rule: Rule, state: dict[str, Any], now: int) -> bool | str:
    if state["silenced_until"] is not None and state["silenced_until"] > now:
        return "silenced"
    last = state["last_notified"]
    if last is not None and now - last < rule.repeat_s * 1000:
        return f"suppressed: paged {(now - last) / 1000:.0f} s ago (repeat {rule.repeat_s:g} s)"
    return True


def _event(rule: Rule, state: dict[str, Any], kind: str, value: float | None, now: int,
           page: bool | str) -> dict[str, Any]:
    message = (f"{rule.name} on monitor {state['monitor']}: {rule.when} "
               f"({'now' if kind == 'firing' else 'no longer'}; value {value:.4g})")
    return {"id": new_id(), "rule": rule.name, "monitor": state["monitor"], "state": kind,
            "severity": rule.severity, "value": value, "message": message, "time": now,
            "delivery": {n: ("pending" if page is True else page) for n in rule.notify}}
