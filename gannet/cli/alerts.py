"""``gannet alerts``: apply, list, history, silence - thin faces over ``AlertService``
(``apply_alert_rules``, ``list_alert_rules``, ``get_alert_history``, ``silence_alert``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gannet.cli import output

app = typer.Typer(help="Alert rules over monitor outputs, their state and history.",
                  no_args_is_help=True)

JsonOption = output.AsJson


@app.command("apply")
def apply(
    ctx: typer.Context,
    rules: Annotated[Path, typer.Argument(help="A YAML file of notifiers and rules.",
                                          show_default=False)],
    as_json: JsonOption = False,
) -> None:
    """Replace the alert rules with the ones in RULES (checked first; nothing changes when
    one is wrong)."""
    from gannet.core.errors import NotFound

    if not rules.is_file():
        raise NotFound(f"rules file {rules} does not exist")
    applied = ctx.obj.services.alerts.apply_alert_rules(rules.read_text(), str(rules))
    output.done(as_json, f"Applied {len(applied)} alert rules from {rules}",
                [r.to_dict() for r in applied])


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The rules, and per monitor whether each fires."""
    rules = ctx.obj.services.alerts.list_alert_rules()
    if as_json:
        output.print_json(rules)
        return
    grid = output.table("rule", "when", "severity", "monitor", "state", "since", "silenced until")
    for rule in rules:
        states = rule["states"] or [{"monitor": rule["monitor"] or "*", "state": "ok",
                                     "since": None, "silenced_until": None}]
        for state in states:
            grid.add_row(output.text(rule["name"]), output.text(rule["when"]),
                         output.text(rule["severity"]), output.text(state["monitor"]),
                         output.status_text(state["state"]),
                         output.text(output.format_time(state["since"])),
                         output.text(output.format_time(state["silenced_until"])))
    output.show(grid)


@app.command("history")
def history(
    ctx: typer.Context,
    rule: Annotated[str | None, typer.Argument(help="Only this rule's events.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many events, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Alerts that fired and resolved, and what was sent."""
    events = ctx.obj.services.alerts.get_alert_history(rule, limit)
    if as_json:
        output.print_json(events)
        return
    grid = output.table("time", "rule", "monitor", "state", "severity", "value", "delivery")
    for e in events:
        grid.add_row(output.text(output.format_time(e["time"])), output.text(e["rule"]),
                     output.text(e["monitor"]), output.status_text(e["state"]),
                     output.text(e["severity"]), output.text(f"{e['value']:.4g}"
                                                             if e["value"] is not None else ""),
                     output.text(", ".join(f"{k}: {v}" for k, v in e["delivery"].items())))
    output.show(grid)


@app.command("silence")
def silence(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="The rule.", show_default=False)],
    duration: Annotated[str, typer.Option("--for", metavar="DURATION",
                                          help="How long: 30m, 2h, 1d.")] = "1h",
    monitor: Annotated[str | None, typer.Option("--monitor", help="Only for this monitor "
                                                "(default: every monitor).")] = None,
    as_json: JsonOption = False,
) -> None:
    """No pages from RULE for a while (its state is still tracked)."""
    from gannet.core.durations import parse_duration

    until = ctx.obj.services.alerts.silence_alert(rule, parse_duration(duration), monitor)
    output.done(as_json, f"Silenced {rule} until {output.format_time(until)}",
                {"rule": rule, "monitor": monitor, "silenced_until": until})
