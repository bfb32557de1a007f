"""``/api/v1`` dataset routes: the catalogue, versions, tags, diffs, lineage, and a version's
files both ways. Each route is one ``DataService`` call of the same name.

A version is addressed as ``/datasets/{name}/versions/{selector}``, where the selector is
a number, ``latest`` or a tag (``churn@3``, ``churn@latest``, ``churn@prod``). Adding a
version takes three calls, none of which moves a byte twice: ``POST
/dataset-files/missing`` with the files' digests, ``PUT /blobs/{digest}`` for each the
server lacks (streamed, kept only if the bytes hash to the digest; see ``artifacts``),
then ``POST /datasets/{name}/versions`` with the file list. A version's files come down
one by one (``.../files/{path}``, streamed); the client checks each against its digest.
Readers (in any project) read datasets, editors write them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer, streamed

router = APIRouter(prefix=API_PREFIX, tags=["datasets"])

DATASET = "/datasets/{name}"
VERSION = DATASET + "/versions/{selector}"
Selector = Annotated[str, Field(description="a version number, 'latest' or a tag")]


class Digests(BaseModel):
    digests: list[str] = Field(max_length=1_000_000, description="blake3:<64 hex> each")


class VersionFile(BaseModel):
    path: str = Field(description="the file's path in the version (POSIX, relative)")
    digest: str = Field(description="blake3:<64 hex>, of a blob stored before")
    size: int = Field(ge=0)
    mode: int = Field(default=0o644, ge=0, le=0o777)


class NewVersion(BaseModel):
    kind: str = Field(description="'file' (one file) or 'folder'")
    files: list[VersionFile] = Field(max_length=1_000_000)
    message: str = ""
    tags: list[str] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list,
                               description="column names of its table files (for search)")
    source: str = Field(default="", description="where the client added it from")


class Description(BaseModel):
    description: str | None = None
    owner: str | None = None
    keywords: list[str] | None = Field(default=None, description="replaces the keywords")
    columns: dict[str, str] | None = Field(default=None, description="merged; '' removes")


class TagTarget(BaseModel):
    version: Selector


class Input(BaseModel):
    run_id: str
    ref: str = Field(description="a dataset version: churn@3, churn@latest, churn@prod")
    context: str = ""


# -- the catalogue -------------------------------------------------------------------------


@router.get("/datasets", summary="Datasets with their newest version (filtered when asked)",
            response_model=shapes.DATASETS)
def search_datasets(
    services: ServicesDep,
    text: str | None = Query(default=None, description="part of a name, keyword, owner or "
                             "column name"),
    owner: str | None = None,
    tag: str | None = Query(default=None, description="a keyword or a version tag"),
    column: str | None = Query(default=None, description="a column of the latest version"),
) -> Response:
    if text is None and owner is None and tag is None and column is None:
        found = services.data.list_datasets()
    else:
        found = services.data.search(text, owner=owner, tag=tag, column=column)
    return answer({"datasets": [d.to_dict() for d in found]})


@router.get("/catalogue", summary="The datasets and the feature views, each feature view "
            "with its freshness and the model versions and deployments that use it",
            response_model=shapes.CATALOGUE)
def catalogue(
    services: ServicesDep,
    text: str | None = Query(default=None, description="part of a name, description, owner, "
                             "keyword, tag, column or feature"),
) -> Response:
    datasets, views = services.data.catalogue(text)
    return answer({"datasets": [d.to_dict() for d in datasets],
                   "feature_views": [v.to_dict() for v in views]})


@router.get(DATASET, summary="A dataset's catalogue entry and newest version",
            response_model=shapes.DATASET)
def get_dataset(name: str, services: ServicesDep) -> Response:
    return answer({"dataset": services.data.get_dataset(name).to_dict()})


@router.patch(DATASET, summary="Set a dataset's description, owner, keywords, columns",
              response_model=shapes.DATASET)
def describe(name: str, body: Description, services: ServicesDep) -> Response:
    found = services.data.describe(name, description=body.description, owner=body.owner,
                                   keywords=body.keywords, columns=body.columns)
    return answer({"dataset": found.to_dict()})


# -- versions --------------------------------------------------------------------------------


@router.post("/dataset-files/missing", summary="Which of these blobs the server lacks",
             response_model=shapes.MISSING)
def missing_blobs(body: Digests, services: ServicesDep) -> Response:
    return answer({"missing": services.data.missing_blobs(body.digests)})


@router.post(DATASET + "/versions", status_code=201,
             summary="A new version from uploaded files (none when they are the latest's)",
             response_model=shapes.COMMITTED_VERSION)
def commit_version(name: str, body: NewVersion, services: ServicesDep) -> Response:
    files = [(f.path, f.digest, f.size, f.mode) for f in body.files]
    result = services.data.commit_version(
        name, files, kind=body.kind, message=body.message, tags=body.tags,
        columns=body.columns, source=body.source)
    return answer({"version": result.version.to_dict(), "created": result.created},
                  201 if result.created else 200)


@router.get(DATASET + "/versions", summary="A dataset's versions, newest first",
            response_model=shapes.DATASET_VERSIONS)
def log(name: str, services: ServicesDep, deleted: bool = False) -> Response:
    versions = services.data.log(name, deleted=deleted)
    return answer({"versions": [v.to_dict() for v in versions]})


@router.get(VERSION, summary="One version with its files (path, digest, size, mode)",
            response_model=shapes.DATASET_VERSION)
def resolve(name: str, selector: str, services: ServicesDep) -> Response:
    version = services.data.resolve(f"{name}@{selector}")
    return answer({"version": version.to_dict(files=True)})


@router.delete(VERSION, summary="Delete a version (its tags go with it)",
               response_model=shapes.DATASET_VERSION)
def delete(name: str, selector: str, services: ServicesDep) -> Response:
    return answer({"version": services.data.delete(f"{name}@{selector}").to_dict()})


@router.get(VERSION + "/files/{path:path}", summary="One file of a version, streamed",
            **shapes.not_json("application/octet-stream", description="the file's bytes"))
def version_file(name: str, selector: str, path: str, services: ServicesDep) -> Response:
    reader, size, digest = services.data.open_version_file(f"{name}@{selector}", path)
    return streamed(reader, size, etag=f'"{digest}"')


# -- tags, diffs, lineage --------------------------------------------------------------------


@router.put(DATASET + "/tags/{tag}", summary="Point NAME@TAG at a version (moving it)",
            response_model=shapes.DATASET_VERSION)
def tag(name: str, tag: str, body: TagTarget, services: ServicesDep) -> Response:
    version = services.data.tag(f"{name}@{body.version}", tag)
    return answer({"version": version.to_dict()})


@router.delete(DATASET + "/tags/{tag}", summary="Remove a tag from a dataset",
               response_model=shapes.DONE)
def delete_tag(name: str, tag: str, services: ServicesDep) -> Response:
    services.data.delete_tag(name, tag)
    return answer({})


@router.get("/dataset-diff", summary="Files, schemas and rows changed between two versions",
            response_model=shapes.DATASET_DIFF)
def diff(
    services: ServicesDep,
    old: str = Query(description="the older version, e.g. churn@2"),
    new: str = Query(description="the newer version, e.g. churn@3"),
    key: list[str] | None = Query(default=None, description="key columns of the tables"),
) -> Response:
    return answer({"diff": services.data.diff(old, new, key=key or None)})


@router.get("/dataset-lineage", summary="Runs and model versions that used a version, or "
            "the versions a run or model version used", response_model=shapes.DATASET_USAGE)
def usage(services: ServicesDep,
          ref: str = Query(description="churn@3, runs:/<run id> or churn-model/4")) -> Response:
    return answer({"usage": services.data.usage(ref)})


@router.post("/dataset-inputs", summary="Record that a run used a dataset version",
             response_model=shapes.DATASET_VERSION)
def log_input(body: Input, services: ServicesDep) -> Response:
    version = services.data.log_input(body.run_id, body.ref, body.context)
    return answer({"version": version.to_dict()})
