"""Bulk actions on the runs ticked in a runs table (POST forms, CSRF-checked).

Tagging is one ``write_pending`` (the tags of every run in one transaction, validated as
the API validates an SDK's batch); deleting is ``delete_run`` per run, each a soft delete
that ``gannet runs restore`` undoes. The service checks the caller may edit each run.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import InvalidArgument
from gannet.tracking.types import Pending
from gannet.ui.pages import form_of, in_thread, see_other, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

MAX_RUNS = 1000


@router.post("/experiments/{experiment_id}/runs/tag")
@shown("experiments")
async def tag_runs(request: Request, experiment_id: str) -> Response:
    form, run_ids = await _selection(request)
    key, value = form.get("key", "").strip(), form.get("value", "")
    if not key:
        raise InvalidArgument("a tag needs a key", "type the tag's key (and value) first")
    pending = Pending(tags=[(run_id, key, value) for run_id in run_ids])
    report = await in_thread(lambda: services_of(request).tracking.write_pending(
        pending, validate=True))
    done = len(run_ids) - len(report.refused_runs)
    return see_other(_back(form, experiment_id, f"tagged {done} run(s) {key}={value}"))


@router.post("/experiments/{experiment_id}/runs/delete")
@shown("experiments")
async def delete_runs(request: Request, experiment_id: str) -> Response:
    form, run_ids = await _selection(request)
    tracking = services_of(request).tracking
    for run_id in run_ids:
        await in_thread(tracking.delete_run, run_id)
    return see_other(_back(form, experiment_id, f"deleted {len(run_ids)} run(s)"))


async def _selection(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await form_of(request)
    run_ids = [r for r in form.get("runs", "").split(",") if r]
    if not 1 <= len(run_ids) <= MAX_RUNS:
        raise InvalidArgument(f"tick 1 to {MAX_RUNS} runs first ({len(run_ids)} were)",
                              "tick the runs' boxes in the table, then press the button")
    return form, run_ids


def _back(form: dict[str, str], experiment_id: str, done: str) -> str:
    """The table the form came from (its filter, order and columns), saying what was done."""
    back = form.get("back", "")
    prefix = f"/ui/experiments/{experiment_id}"
    if not back.startswith(prefix):
        back = prefix
    return back + ("&" if "?" in back else "?") + "done=" + quote(done)
