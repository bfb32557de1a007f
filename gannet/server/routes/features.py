"""``/api/v1`` feature store routes: definitions (list, show, apply), materialization, and
online retrieval. Each route is one ``FeatureStore`` call of the same name.

``POST /features/online`` takes feature references (``churn_stats:orders_30d``) and entity
rows (a list of objects, or an object of columns) and
answers the newest values as columns: the join keys, then each feature (null where the
online store has none, or only one older than the view's ttl). ``POST
/features/training-set`` takes the entity rows as a Parquet body (join keys and
``event_timestamp``; time zones kept exactly) and answers the training set as Parquet
(with ``save_as``, also stored as a dataset version, named in ``Gannet-Dataset-Version``);
``GET /features/{name}/rows`` answers a view's rows as Parquet.
Definitions applied through the server may read dataset versions only (``source:
churn@3``): the server reads no path and runs no query a caller names. Readers read;
editors apply and materialize.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer

if TYPE_CHECKING:
    from gannet.bootstrap import Services

PARQUET = "application/vnd.apache.parquet"
router = APIRouter(prefix=API_PREFIX, tags=["features"])


class Definitions(BaseModel):
    definitions: str | list[dict[str, Any]] = Field(
        description="YAML text (entities: and feature_views:), or a list of definitions "
        "(each with kind: entity or feature_view)")
    dry_run: bool = Field(default=False, description="report the changes, register nothing")


class Materialize(BaseModel):
    start: str | None = Field(default=None, description="ISO time; default: where the last "
                              "materialization of each view ended")
    end: str | None = Field(default=None, description="ISO time; default: now")
    views: list[str] | None = Field(default=None, description="default: every view")


class OnlineRequest(BaseModel):
    features: list[str] = Field(min_length=1, description="view:feature each")
    entity_rows: list[dict[str, Any]] | dict[str, list[Any]] = Field(
        description="the join keys of each row: a list of objects or an object of columns")


@router.get("/features", summary="Registered entities and feature views (newest versions), "
            "each view with its staleness", response_model=shapes.DEFINITIONS)
def list_definitions(services: ServicesDep) -> Response:
    store = services.features
    records = store.list_definitions()
    stale = store.staleness()
    return answer({"definitions": [
        {**r, "staleness_seconds": stale.get(r["name"])} if r["kind"] == "feature_view"
        else r for r in records]})


@router.get("/features/{name}", summary="A feature view's (or entity's) definition and "
            "versions", response_model=shapes.DEFINITION)
def get_definition(name: str, services: ServicesDep) -> Response:
    return answer({"definition": services.features.get_definition(name)})


@router.get(
    "/features/{name}/rows", response_class=Response,
    summary="A feature view's rows as its source holds them (join keys, event time, "
    "features) as Parquet: what validation suites and profiles run on",
    responses={200: {"content": {PARQUET: {"schema": {"type": "string", "format": "binary"}}}}})
async def view_rows(name: str, services: ServicesDep) -> Response:
    from gannet.features.offline import table_parquet

    def read() -> bytes:
        return table_parquet(services.features.view_table(name))

    return Response(await anyio.to_thread.run_sync(read), media_type=PARQUET)


@router.post("/features/apply", summary="Register definitions (a changed one gets a new "
             "version; breaking changes are named)", response_model=shapes.DEFINITION_CHANGES)
def apply(body: Definitions, services: ServicesDep) -> Response:
    changes = services.features.apply(body.definitions, dry_run=body.dry_run,
                                      dataset_sources_only=True)
    return answer({"changes": [c.to_dict() for c in changes]})


@router.post("/features/materialize", summary="Load the views' newest values into the "
             "online store (incremental)", response_model=shapes.MATERIALIZATIONS)
def materialize(body: Materialize, services: ServicesDep) -> Response:
    results = services.features.materialize(body.start, body.end, body.views)
    return answer({"materializations": [r.to_dict() for r in results]})


DATASET_VERSION_HEADER = "Gannet-Dataset-Version"


@router.post(
    "/features/training-set", response_class=Response,
    summary="A point-in-time correct training set: the entity rows (a Parquet body) with "
    "the features as they were at each row's time (a Parquet answer)",
    openapi_extra={"requestBody": {"required": True, "content": {PARQUET: {"schema": {
        "type": "string", "format": "binary"}}}}},
    responses={200: {"content": {PARQUET: {"schema": {"type": "string", "format": "binary"}}}}})
async def training_set(
    request: Request, services: ServicesDep,
    features: list[str] = Query(description="view:feature each"),
    save_as: str | None = Query(None, description="also store it as a version of this "
                                "dataset (its ref answers in the Gannet-Dataset-Version header)"),
    message: str = Query("", description="the stored version's message"),
    run_id: str | None = Query(None, description="record the stored version as an input of "
                               "this run"),
) -> Response:
    """The body is held to the server's limit (``server_max_body``): a larger entity frame
    is sent in parts, or built where the stores are."""
    body = await request.body()
    table, ref = await anyio.to_thread.run_sync(
        _training_set, services, body, features, save_as, message, run_id)
    headers = {DATASET_VERSION_HEADER: ref} if ref else None
    return Response(table, media_type=PARQUET, headers=headers)


def _training_set(services: Services, body: bytes, features: list[str], save_as: str | None,
                  message: str, run_id: str | None) -> tuple[bytes, str | None]:
    from gannet.features.offline import parquet_table, table_parquet

    entity_table = parquet_table(body, "the request body")
    table = services.features.training_set(entity_table, features, output="arrow",
                                           save_as=save_as, message=message, run_id=run_id)
    ref = (table.schema.metadata or {}).get(b"gannet.dataset_version")
    return table_parquet(table), ref.decode() if ref else None


@router.post("/features/online", summary="The newest values of features for entity rows",
             response_model=shapes.ONLINE_COLUMNS)
def online(body: OnlineRequest, services: ServicesDep) -> Response:
    columns = services.features.online(body.features, body.entity_rows, output="dict")
    return answer({"columns": columns})
