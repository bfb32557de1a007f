"""Experiments and their runs: the list of experiments, and one experiment's runs table.

The runs table is one ``search_runs`` call per page (and ``get_experiment`` for its name):
the filter (MLflow's language, its error shown beside the box), the order (a column
header's link) and the page token all come from the URL, so a table is a link people can
paste to each other. The column chooser offers the params, metrics and tags of the runs on
the page, plus the columns chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import GannetError
from gannet.tracking.types import Run
from gannet.ui.pages import page, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 250)  # offered; any size up to MAX_PAGE in a link
MAX_PAGE = 1000
ATTRIBUTES = ("run_name", "status", "start_time", "user_id")
DEFAULT_ORDER = "attributes.start_time DESC"


@dataclass(frozen=True)
class Column:
    """A column of the runs table: ``entity`` is params, metrics, tags or attributes."""

    entity: str
    key: str

    @property
    def name(self) -> str:
        return f"{self.entity}.{self.key}"

    @property
    def order_key(self) -> str:
        quoted = f"`{self.key}`" if not self.key.replace("_", "").isalnum() else self.key
        return f"{self.entity}.{quoted}"

    def value(self, run: Run) -> object:
        if self.entity == "attributes":
            return getattr(run.info, self.key, None)
        return getattr(run.data, self.entity).get(self.key)


@router.get("/experiments")
@shown("experiments")
def experiments(request: Request) -> Response:
    found = services_of(request).tracking.search_experiments(order_by=["name ASC"])
    return page(request, "experiments.html.j2", "Experiments", "experiments",
                experiments=found)


@router.get("/experiments/{experiment_id}")
@shown("experiments")
def runs_table(request: Request, experiment_id: str, filter: str = "", order: str = "",
               page_token: str | None = None, size: int = 50, done: str = "") -> Response:
    services = services_of(request)
    size = min(max(size, 1), MAX_PAGE)
    order = order or DEFAULT_ORDER
    cols = [_column(c) for c in request.query_params.getlist("cols") if "." in c]
    experiment = services.tracking.get_experiment(experiment_id)  # missing: the error page
    error: GannetError | None = None
    runs: list[Run] = []
    next_token = None
    try:
        found = services.tracking.search_runs([experiment_id], filter or None, [order], size,
                                              page_token or None)
        runs, next_token = found.items, found.next_page_token
    except GannetError as exc:  # the filter, order or page token: shown beside the box
        error = exc
    available = _available(runs, cols)
    if not request.query_params.getlist("cols"):
        cols = _default_columns(available)
    return page(request, "runs.html.j2", f"Runs of {experiment.name}", "experiments",
                experiment_id=experiment_id, runs=runs, cols=cols, available=available,
                filter=filter, order=order, error=error, next_token=next_token,
                size=size, sizes=sorted({*PAGE_SIZES, size}), attributes=ATTRIBUTES,
                first_page=not page_token, done=done)


def _column(name: str) -> Column:
    entity, _, key = name.partition(".")
    entity = entity if entity in ("params", "metrics", "tags", "attributes") else "params"
    return Column(entity, key)


def _available(runs: list[Run], chosen: list[Column]) -> dict[str, list[str]]:
    """The keys a column can show: those of the runs on this page, and the chosen ones."""
    keys: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
    for run in runs:
        keys["metrics"].update(run.data.metrics)
        keys["params"].update(run.data.params)
        keys["tags"].update(k for k in run.data.tags if not k.startswith("mlflow."))
    for col in chosen:
        if col.entity in keys:
            keys[col.entity].add(col.key)
    return {entity: sorted(found) for entity, found in keys.items()}


def _default_columns(available: dict[str, list[str]]) -> list[Column]:
    return ([Column("metrics", k) for k in available["metrics"][:4]]
            + [Column("params", k) for k in available["params"][:4]])
