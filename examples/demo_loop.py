"""The demo's closed loop on the served champion: traffic with labels, a monitor and its
alerts, the drift and label decay the new scanner brings, a continuous-training policy
that retrains, gates, canaries and promotes - then a bad model it rolls back on its own.

The controller is the real one: `gannet controller --interval 1` as a child process over
the same home, as it would run beside a production service. The demo only sends traffic,
adds data and changes the policy; every decision is the controller's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
from demo_data import MEASURES, scanner_b
from demo_pipeline import SUITE
from demo_serving import Traffic, wait_for_log
from rich.console import Console
from rich.table import Table

import gannet
import gannet.data

STARTED = time.monotonic()  # when quickstart.py imports this: the demo's clock
MODEL = DEPLOYMENT = MONITOR = "breast-cancer"
POLICY = "breast-cancer-ct"
PIPELINE = Path(__file__).resolve().parent / "demo_pipeline.py"
ALERTS = f"""
rules:
  - name: breast-cancer-drift
    monitor: {MONITOR}
    when: drift.share > 0.3
    severity: warning
    notify: [log]
  - name: breast-cancer-accuracy
    monitor: {MONITOR}
    when: performance.accuracy < 0.85
    severity: critical
    notify: [log]
"""
GUARDS = ("{error_rate: 0.05, latency_p99_ms: 2000, "
          "performance: {metric: accuracy, min: 0.8, min_labels: 25}}")
COLORS = {"trigger": "yellow", "retrain": "cyan", "gate": "cyan", "canary": "blue",
          "wait": "dim", "promote": "bold green", "rollback": "bold red", "approve": "cyan"}


def policy_yaml(recipe: str, server: str, exclude: str) -> str:
    return f"""\
name: {POLICY}
model: {MODEL}
deployment: {DEPLOYMENT}
triggers:
  - alert: breast-cancer-accuracy     # live accuracy fell below its floor
  - dataset: breast-cancer-train      # or new training data arrived
pipeline:
  file: {PIPELINE}:train_pipeline
  params: {{data: "${{dataset}}", model: {recipe}, exclude: "{exclude}"}}
  model_step: train
evaluation:                           # challenger vs champion on the same held-out rows
  dataset: breast-cancer-holdout
  label: malignant
  metric: accuracy
  min_improvement: 0.0                # at least as good as the champion
  gates: true                         # and the model's own promotion gates
rollout:
  metrics: [{server}]                 # the servers whose /metrics count errors
  stages:
    - {{weight: 50, duration: 6s, min_requests: 50, timeout: 90s, guards: {GUARDS}}}
    - {{weight: 100, duration: 4s, min_requests: 40, timeout: 90s, guards: {GUARDS}}}
"""


class Controller:
    """`gannet controller --interval 1 --json` as a child process; its decisions are
    printed as they come."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gannet", "controller", "--interval", "1", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "200"})
        self.reader = threading.Thread(target=self._read, daemon=True, name="demo-controller")
        self.reader.start()

    def _read(self) -> None:
        """Each decision is a JSON object over several lines; other lines are errors."""
        assert self.process.stdout is not None
        pending = ""
        for line in self.process.stdout:
            if not pending and not line.startswith("{"):
                self.console.print(f"  [red]controller:[/] {line.rstrip()}", soft_wrap=True)
                continue
            pending += line
            try:
                decision = json.loads(pending)
            except json.JSONDecodeError:
                continue  # not the whole object yet
            pending = ""
            color = COLORS.get(decision["action"], "white")
            self.console.print(f"  [dim]controller[/] [{color}]{decision['action']:>8}[/] "
                               f"{decision['reason']}", soft_wrap=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # it gives the lease up
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.reader.join(timeout=5)


def wait_for_outcome(since: int, controller: Controller, seconds: float = 150) -> Any:
    """The decision that ends the cycle started after `since` (ms): promote, rollback, or
    a failed retrain or gate."""
    client = gannet.get_client()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for d in client.list_decisions(POLICY, limit=20):
            if d.at < since:
                break
            if d.action in ("promote", "rollback") or (
                    d.action in ("retrain", "gate") and d.numbers.get("passed") is False):
                time.sleep(0.3)  # let the controller's line reach the console
                return d
        if controller.process.poll() is not None:
            raise RuntimeError("the controller stopped")
        time.sleep(0.3)
    raise RuntimeError(f"the policy did not finish a cycle within {seconds:.0f} s")


def add_version(frame: pd.DataFrame, name: str, message: str) -> str:
    """A new dataset version, validated (the report is stored beside it)."""
    version = gannet.data.add(frame, name, message=message).version
    ref = f"{name}@{version.version}"
    report = gannet.validate_data(frame, SUITE, dataset=ref)
    if not report.passed:
        raise RuntimeError(f"{ref} fails its checks")
    return ref


def show_report(console: Console, summary: Any) -> None:
    for report in summary.reports[-1:]:
        metrics = report.body["metrics"]
        drifted = report.body["drift"].get("drifted_columns", [])
        console.print(
            f"  monitor {summary.monitor}: {report.rows} rows, status [bold]{report.status}"
            f"[/], drift share {metrics.get('drift.share', 0):.2f} {drifted or ''}, live "
            f"accuracy {metrics.get('performance.accuracy', float('nan')):.3f} "
            f"({metrics.get('labels.count', 0):g} labels)", soft_wrap=True)
        for issue in report.body["quality"].get("issues", [])[:3]:
            console.print(f"    [dim]data quality: {issue}[/]", soft_wrap=True)
    for event in summary.alerts:
        color = "red" if event["state"] == "firing" else "green"
        console.print(f"  alert [{color}]{event['rule']} {event['state']}[/] "
                      f"(value {event.get('value', float('nan')):.3f})")


def look(console: Console, *commands: str) -> None:
    """Where to see what the step did: one command a line."""
    for i, command in enumerate(commands):
        console.print(f"  [dim]{'look:' if i == 0 else '':5} $[/] [cyan]{command}[/]",
                      soft_wrap=True, highlight=False)


def history_table(decisions: list[Any]) -> Table:
    table = Table("action", "reason", title=f"gannet policy history {POLICY}",
                  title_justify="left", show_lines=False)
    for d in reversed(decisions):
        color = COLORS.get(d.action, "white")
        table.add_row(f"[{color}]{d.action}[/]", d.reason)
    return table


def heading(console: Console, text: str) -> None:
    console.print()
    console.rule(f"[bold]{text}[/] [dim]({time.monotonic() - STARTED:.0f} s)[/]",
                 align="left")


def watch(console: Console, traffic: Traffic, folder: Path, recipe: str, server: str
          ) -> Path:
    """Normal traffic with labels, a monitor and its alert rules, the policy applied."""
    services = gannet.get_client().services
    heading(console, "5. Traffic, a monitor, alert rules and a policy")
    traffic.send(120)
    wait_for_log(services.inference_log, DEPLOYMENT, 120, 120)
    console.print(f"  sent {traffic.sent} screening requests, each with its label "
                  "(POST /feedback)")
    services.monitoring.create_monitor(DEPLOYMENT, "dataset:breast-cancer-train@1",
                                       features=MEASURES, window="rows:100")
    services.alerts.apply_alert_rules(ALERTS)
    show_report(console, services.monitoring.run_monitor(MONITOR))
    look(console, f"gannet monitor show {MONITOR}", "gannet alerts list",
         f"gannet logs query {DEPLOYMENT} \"SELECT version, count(*) FROM predictions "
         "GROUP BY 1\"")
    path = folder / "policy.yaml"
    path.write_text(policy_yaml(recipe, server, "biopsy"))
    status = gannet.get_client().apply_policy(path)
    plan = gannet.get_client().dry_run_policy(path.read_text(), folder=str(folder))
    console.print(f"  policy [bold]{status.name}[/] applied from {path}: it would "
                  f"{plan['would']} now ({plan['why']})", soft_wrap=True)
    look(console, f"cat {path}", f"gannet policy dry-run {path}", "gannet policy list")
    return path


def decay(console: Console, traffic: Traffic, parts: dict[str, pd.DataFrame]) -> None:
    """The new scanner: drifted inputs, and labels that say the champion is wrong."""
    services = gannet.get_client().services
    heading(console, "6. Drift and label decay: the clinic's new scanner")
    traffic.use(scanner_b(parts["live"], seed=1))
    traffic.send(120)
    wait_for_log(services.inference_log, DEPLOYMENT, 240, 240)
    show_report(console, services.monitoring.run_monitor(MONITOR))
    train = add_version(scanner_b(parts["train"], seed=2), "breast-cancer-train",
                        "cases from the new scanner, with their labels")
    holdout = add_version(scanner_b(parts["holdout"], seed=3), "breast-cancer-holdout",
                          "held-out cases from the new scanner")
    console.print(f"  new labelled data: [bold]{train}[/] and [bold]{holdout}[/] "
                  "(validated)")
    look(console, f"gannet monitor show {MONITOR}", "gannet alerts history",
         "gannet data log breast-cancer-train", f"gannet data diff breast-cancer-train@1 "
         f"{train}")


def retrain(console: Console, traffic: Traffic) -> tuple[Controller, Any]:
    """The controller takes over: trigger, retrain, gate, canary, promote."""
    heading(console, "7. The policy retrains, gates, canaries and promotes")
    since = int(time.time() * 1000)
    controller = Controller(console)
    traffic.start()
    outcome = wait_for_outcome(since, controller)
    console.print(f"  traffic so far: {traffic.sent} requests, by version "
                  f"{dict(sorted(traffic.versions.items()))}, {traffic.errors} errors")
    look(console, f"gannet policy status {POLICY}", f"gannet deployments history "
         f"{DEPLOYMENT}", f"gannet models show {MODEL}", "gannet runs list")
    return controller, outcome


def bad_model(console: Console, controller: Controller, folder: Path, recipe: str,
              parts: dict[str, pd.DataFrame]) -> Any:
    """A change to the policy lets the model see `biopsy`: perfect on archive rows, blind
    on live requests. The canary's guards catch it on live traffic and roll it back."""
    heading(console, "8. A bad model: the policy now trains on every column")
    path = folder / "policy.yaml"
    path.write_text(path.read_text().replace('exclude: "biopsy"', 'exclude: ""'))
    gannet.get_client().apply_policy(path)
    since = int(time.time() * 1000)
    train = add_version(scanner_b(parts["train"], seed=4), "breast-cancer-train",
                        "more cases from the new scanner")
    console.print(f"  policy re-applied with exclude: \"\" (biopsy is a feature now); "
                  f"new data {train}")
    outcome = wait_for_outcome(since, controller)
    look(console, f"gannet policy history {POLICY}", f"gannet deployments history "
         f"{DEPLOYMENT}", f"gannet audit policy:{POLICY}")
    return outcome
