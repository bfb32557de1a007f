"""``gannet data catalogue``: the datasets and the feature views in one list (one
``DataService.catalogue`` call)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.data.types import Dataset, FeatureViewEntry


def catalogue(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(
        help="Part of a name, description, owner, keyword, tag, column or feature.",
        show_default=False)] = None,
    as_json: output.AsJson = False,
) -> None:
    """The data catalogue: every dataset and feature view, who owns it, how fresh it is
    and which model versions use it."""
    datasets, views = ctx.obj.services.data.catalogue(text)
    if as_json:
        output.print_json({"datasets": [d.to_dict() for d in datasets],
                           "feature_views": [v.to_dict() for v in views]})
        return
    output.show(_datasets(datasets))
    output.show(_views(views))


def _datasets(datasets: list[Dataset]) -> object:
    grid = output.table("Dataset", "Latest", "Owner", "Updated", "Description", title="Datasets")
    for d in datasets:
        grid.add_row(output.text(d.name, "bold"), d.latest.ref if d.latest else "-",
                     d.owner or "-", _ago(d.last_update_time), d.description)
    return grid


def _views(views: list[FeatureViewEntry]) -> object:
    grid = output.table("Feature view", "Version", "Owner", "Freshness", "Used by",
                        "Description", title="Feature views")
    for v in views:
        fresh = ("not materialized" if v.staleness_s is None
                 else f"{output.format_duration(int(v.staleness_s * 1000))} old")
        users = ", ".join([*v.model_versions, *(f"deployment {d}" for d in v.deployments)])
        grid.add_row(output.text(v.name, "bold"), str(v.version), v.owner or "-", fresh,
                     users or "-", v.description)
    return grid


def _ago(ms: int) -> str:
    return output.format_duration(int(time.time() * 1000) - ms) + " ago"
