"""``/api/v1`` inference log routes: SQL over a deployment's log, its latest rows, and
feedback (ground truth by request id), as ``gannet logs query|show|feedback``.

Results travel as an Arrow IPC stream (``application/vnd.apache.arrow.stream``): the
columns keep their types (times with their zone, integers, nulls), which JSON would not.
The server's log runs queries confined to the log's own files (``Services.inference_log``):
SQL from a caller reads the views ``predictions``, ``feedback`` and ``joined``, never
another file of the server, and cannot change DuckDB's settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(prefix=API_PREFIX, tags=["inference log"])

ARROW_STREAM = "application/vnd.apache.arrow.stream"
MAX_ROWS = 100_000  # rows one answer carries at most (ask with a LIMIT or aggregate)


class LogQuery(BaseModel):
    sql: str = Field(description="DuckDB SQL over the views predictions, feedback, joined")
    limit: int | None = Field(default=None, ge=1, le=MAX_ROWS)


class Label(BaseModel):
    request_id: str
    label: Any = Field(description="the true outcome (a number or a string)")
    row: int | None = Field(default=None, description="one row of the request; null: all")
    timestamp: int | None = Field(default=None, description="ms since the epoch; null: now")


class Feedback(BaseModel):
    records: list[Label] = Field(max_length=100_000)


@router.get("/logs", summary="Deployments with logged predictions",
            response_model=shapes.LOGGED_DEPLOYMENTS)
def deployments(services: ServicesDep) -> Response:
    return answer({"deployments": services.inference_log.deployments()})


@router.post("/logs/{deployment}/query", summary="SQL over a deployment's inference log",
             **shapes.not_json(ARROW_STREAM, description="the rows, as an Arrow stream"))
def query(deployment: str, body: LogQuery, services: ServicesDep) -> Response:
    frame = services.inference_log.query(deployment, body.sql, limit=body.limit or MAX_ROWS)
    return _arrow(frame)


@router.get("/logs/{deployment}/latest", summary="The latest logged rows, newest first",
            **shapes.not_json(ARROW_STREAM, description="the rows, as an Arrow stream"))
def show(deployment: str, services: ServicesDep,
         last: int = Query(default=20, ge=1, le=MAX_ROWS)) -> Response:
    return _arrow(services.inference_log.show(deployment, last))


@router.post("/logs/{deployment}/feedback", summary="Record the true labels of requests",
             response_model=shapes.WRITTEN)
def feedback(deployment: str, body: Feedback, services: ServicesDep) -> Response:
    written = services.inference_log.feedback_many(
        deployment, [record.model_dump() for record in body.records])
    return answer({"written": written})


def _arrow(frame: pd.DataFrame) -> Response:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)
