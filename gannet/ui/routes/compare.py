"""Compare runs: the runs chosen in a runs table, side by side.

One ``get_run`` per run (a comparison is of a few to a hundred runs); the page holds their
params, latest metrics and environment tags, so the params and environment diffs and the
parallel coordinates need nothing more; the overlaid curves ask each run's history of the
chosen metric, as the runs page does. Where the runs' installed packages differ (their
digests), one ``read_artifact`` of ``environment/requirements.txt`` per distinct digest
(not per run) says which packages.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import GannetError, InvalidArgument
from gannet.tracking.types import Run
from gannet.ui.pages import page, services_of, shown
from gannet.ui.routes.runs import ENVIRONMENT_TAGS

router = APIRouter(prefix="/ui", include_in_schema=False)

MAX_RUNS = 100
PACKAGES = "environment/requirements.txt"
PACKAGES_TAG = "gannet.packages.digest"
MAX_PACKAGE_LISTS = 10  # distinct package sets read for the packages diff


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
    environment = _rows([{k: r.data.tags.get(k, "") for k in ENVIRONMENT_TAGS} for r in found],
                        only_differences)
    packages = _package_rows(request, found)
    data = {"runs": [{"id": r.info.run_id, "name": r.info.run_name or r.info.run_id,
                      "params": r.data.params, "metrics": r.data.metrics} for r in found],
            "metric": metric}
    return page(request, "compare.html.j2", f"Compare {len(found)} runs", "experiments",
                runs=found, metrics=metrics, metric=metric, params=params, data=data,
                only_differences=only_differences, environment=environment,
                packages=packages)


def _param_rows(runs: list[Run], only_differences: bool) -> list[tuple[str, list[str], bool]]:
    """(param, its value in each run, whether the values differ)."""
    return _rows([run.data.params for run in runs], only_differences)


def _rows(values_of: list[dict[str, str]], only_differences: bool
          ) -> list[tuple[str, list[str], bool]]:
    """(key, its value in each of ``values_of``, whether they differ), keys sorted."""
    keys = sorted({k for values in values_of for k, v in values.items() if v != ""})
    rows = []
    for key in keys:
        values = [found.get(key, "") for found in values_of]
        differ = len(set(values)) > 1
        if differ or not only_differences:
            rows.append((key, values, differ))
    return rows


def _package_rows(request: Request, runs: list[Run]) -> list[tuple[str, list[str], bool]]:
    """The packages whose versions differ between the runs (each run's version, ``-`` for
    none), read once per distinct package set; none when the sets are the same."""
    digests = [run.data.tags.get(PACKAGES_TAG, "") for run in runs]
    distinct = [d for d in dict.fromkeys(digests) if d]
    if len(distinct) < 2 or len(distinct) > MAX_PACKAGE_LISTS:
        return []
    tracking = services_of(request).tracking
    listed: dict[str, dict[str, str]] = {}
    for digest in distinct:
        run = runs[digests.index(digest)]
        try:
            text = tracking.read_artifact(run.info.run_id, PACKAGES).decode(errors="replace")
        except GannetError:  # not uploaded (yet), or gone: that set is unknown
            continue
        listed[digest] = dict(line.partition("==")[::2] for line in text.splitlines()
                              if "==" in line)
    per_run = [listed.get(d, {}) for d in digests]
    return [(name, [versions or "-" for versions in values], True)
            for name, values, differ in _rows(per_run, only_differences=True) if differ]
