"""``/api/v1/data`` routes: validation reports stored and listed, as
``ValidationService.record_data_validation`` and ``search_data_validations``.

A remote client validates its table where the table is (its own machine) and sends the
report; the server stores it and tags the run (the caller must be allowed to log to it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.data.validation.report import ValidationReport
from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["data validation"])


class Recorded(BaseModel):
    report: dict[str, Any] = Field(description="what ValidationReport.to_dict() writes")
    run_id: str | None = Field(default=None, description="tag this run with the verdict")


@router.post("/data/validations", summary="Store a validation report (and tag its run)",
             response_model=shapes.VALIDATION_ID)
def record(body: Recorded, services: ServicesDep) -> Response:
    report = ValidationReport.from_dict(body.report)
    validation_id = services.validation.record_data_validation(report, run_id=body.run_id)
    return answer({"id": validation_id})


@router.get("/data/validations", summary="Stored validations, newest first",
            response_model=shapes.VALIDATIONS)
def search(
    services: ServicesDep,
    dataset: str | None = Query(default=None),
    run_id: str | None = Query(default=None),
    max_results: int = Query(default=100, ge=1, le=1000),
) -> Response:
    records = services.validation.search_data_validations(
        dataset=dataset, run_id=run_id, max_results=max_results)
    return answer({"validations": [
        {**{k: v for k, v in r.__dict__.items() if k != "report"}, "report": r.report.to_dict()}
        for r in records
    ]})
