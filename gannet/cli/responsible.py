"""``gannet models explain | fairness | sensitive``: a version's explanations and fairness
results, computed on held-out data and stored with it (``ResponsibleAIService``).

The commands join ``gannet models`` (``models.app``); ``gannet.cli.app`` imports this
module with ``models`` (``EXTENDS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gannet.cli import output
from gannet.cli.models import app

if TYPE_CHECKING:
    from gannet.registry.responsible import ResponsibleAIService
    from gannet.registry.types import VersionReport

Ref = Annotated[str, typer.Argument(help="churn/3 or churn@champion")]
Data = Annotated[str, typer.Option(
    "--data", help="Held-out rows: a Parquet or CSV file, or a dataset version (churn@3).")]
Target = Annotated[str, typer.Option("--target", help="The column of true labels.")]
Plot = Annotated[Path | None, typer.Option(
    "--plot", help="Also write the plot to this .html or .png file.")]


def _rai(ctx: typer.Context) -> ResponsibleAIService:
    return ctx.obj.services.rai  # with GANNET_URI: NotSupported, naming the server


@app.command("explain")
def explain(
    ctx: typer.Context, ref: Ref, data: Data, target: Target,
    repeats: Annotated[int, typer.Option("--repeats", help="Shuffles per feature.")] = 5,
    max_rows: Annotated[int | None, typer.Option(
        "--max-rows", help="Rows used (default: the explain_max_rows setting).")] = None,
    plot: Plot = None,
    as_json: output.AsJson = False,
) -> None:
    """Explain REF on held-out data (permutation importance, SHAP) and store it with it."""
    rai = _rai(ctx)
    found = rai.explain_model_version(ref, data, target, n_repeats=repeats, max_rows=max_rows)
    _write_plot(rai, ref, "explanation", plot)
    if as_json:
        output.print_json(_as_dict(found))
        return
    report = found.report
    rows = [(output.text(f["feature"], "bold"),
             f"{f['importance_mean']:.4g} ± {f['importance_std']:.2g} "
             f"({f['share']:.1%}){_shap(report, f['feature'])}")
            for f in report["permutation"]["features"]]
    output.show(output.key_value_table(rows))
    for note in report["notes"]:
        output.note(note)
    output.say(f"stored the explanation of {found.name}/{found.version} "
               f"({report['rows']} rows of {data})")


@app.command("fairness")
def fairness(
    ctx: typer.Context, ref: Ref, data: Data, target: Target,
    sensitive: Annotated[list[str] | None, typer.Option(
        "--sensitive", help="A sensitive attribute (repeat; default: the declared ones).")
    ] = None,
    min_group_size: Annotated[int | None, typer.Option(
        "--min-group-size", help="Smaller groups are reported as small.")] = None,
    positive: Annotated[str | None, typer.Option(
        "--positive", help="The favourable label (default: the model's last class).")] = None,
    plot: Plot = None,
    as_json: output.AsJson = False,
) -> None:
    """Per-group metrics and disparities of REF's predictions, stored with the version."""
    rai = _rai(ctx)
    found = rai.compute_fairness(ref, data, target, sensitive or (),
                                 min_group_size=min_group_size, positive=positive)
    _write_plot(rai, ref, "fairness", plot)
    if as_json:
        output.print_json(_as_dict(found))
        return
    for attribute, result in found.report["attributes"].items():
        rows = [(output.text(k, "bold"), "-" if v is None else f"{v:.4g}")
                for k, v in result["disparities"].items()]
        output.say(attribute, style="bold cyan")
        output.show(output.key_value_table(rows))
        if result["small_groups"]:
            output.note(f"small groups (not in the disparities): "
                        f"{', '.join(result['small_groups'])}")
    output.say(f"stored the fairness results of {found.name}/{found.version}")


@app.command("sensitive")
def sensitive_attributes(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The registered model.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Declare this sensitive attribute (repeat; replaces the list).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Show, or declare with --set, the sensitive attributes of model NAME."""
    rai = _rai(ctx)
    found = rai.set_sensitive_attributes(name, set_) if set_ else rai.sensitive_attributes(name)
    if as_json:
        output.print_json({"name": name, "sensitive_attributes": found})
    else:
        output.say(", ".join(found) if found else f"{name} declares no sensitive attribute")


def _write_plot(rai: ResponsibleAIService, ref: str, kind: str, plot: Path | None) -> None:
    if plot is None:
        return
    fmt = "png" if plot.suffix.lower() == ".png" else "html"
    plot.write_bytes(rai.get_report_plot(ref, kind, fmt))
    output.note(f"wrote {plot}")


def _shap(report: dict[str, Any], feature: str) -> str:
    for item in (report.get("shap") or {}).get("features", []):
        if item["feature"] == feature:
            return f", SHAP {item['mean_abs']:.4g}"
    return ""


def _as_dict(found: VersionReport) -> dict[str, Any]:
    return {"name": found.name, "version": found.version, "kind": found.kind,
            "data": found.data_source, "plots": found.plots, "report": found.report}
