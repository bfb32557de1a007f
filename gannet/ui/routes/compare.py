"""Compare runs: the runs chosen in a runs table, side by side.

One ``get_run`` per run (a comparison is of a few to a hundred runs); the page holds their
params and latest metrics, so the params diff and the parallel coordinates need nothing
more; the overlaid curves ask each run's history of the chosen metric, as the runs page does.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import InvalidArgument
from gannet.tracking.types import Run
from gannet.ui.pages import page, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

MAX_RUNS = 100


@router.get("/compare")
@shown("experiments")
def compare(request: Request, runs: list[str] = Query(default=[]), metric: str = "",
            only_differences: bool = False) -> Response:
    chosen = list(dict.fromkeys(r for r in runs if r))
    if not 2 <= len(chosen) <= MAX_RUNS:
        raise InvalidArgument(
            f"comparing needs 2 to {MAX_RUNS} runs, {len(chosen)} were chosen",
            "tick the runs to compare in a runs table, then press Compare selected runs")
    found = [services_of(request).tracking.get_run(run_id) for run_id in chosen]
    metrics = sorted({k for run in found for k in run.data.metrics})
    metric = metric if metric in metrics else (metrics[0] if metrics else "")
    params = _param_rows(found, only_differences)
    data = {"runs": [{"id": r.info.run_id, "name": r.info.run_name or r.info.run_id,
                      "params": r.data.params, "metrics": r.data.metrics} for r in found],
            "metric": metric}
    return page(request, "compare.html.j2", f"Compare {len(found)} runs", "experiments",
                runs=found, metrics=metrics, metric=metric, params=params, data=data,
                only_differences=only_differences)


def _param_rows(runs: list[Run], only_differences: bool) -> list[tuple[str, list[str], bool]]:
    """(param, its value in each run, whether the values differ)."""
    keys = sorted({k for run in runs for k in run.data.params})
    rows = []
    for key in keys:
        values = [run.data.params.get(key, "") for run in runs]
        differ = len(set(values)) > 1
        if differ or not only_differences:
            rows.append((key, values, differ))
    return rows
