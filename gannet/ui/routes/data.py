"""Datasets: the catalogue (searched by name, column, owner), a dataset's versions, a
version's files, schema, profile charts, validation results and usage; two versions' diff.

Each page calls the data capability's services as ``gannet data`` does: ``search``,
``get_dataset`` and ``log``, ``resolve`` and ``usage``, ``diff``; validation results are
``search_data_validations`` (what ``GET /api/v1/data/validations`` answers). A version's
profile is ``profile_data`` over its verified local copy, kept per manifest digest (a
version's bytes never change, so neither does its profile). The runs and model versions
that used a version are shown only when the caller may read them, as their own pages.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import GannetError, InvalidArgument, NotFound
from gannet.stats.profile import Profile
from gannet.ui.pages import page, services_of, shown
from gannet.ui.plots import column_figure

router = APIRouter(prefix="/ui", include_in_schema=False)

PROFILES_KEPT = 32
VALIDATIONS_SHOWN = 20
_profiles: OrderedDict[str, Profile] = OrderedDict()
_lock = threading.Lock()


@dataclass
class Usage:
    """Who used a version, as far as the caller may see: runs (with their names) and
    model versions, and how many runs were left out."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    hidden: int = 0


@router.get("/data")
@shown("data")
def datasets(request: Request, q: str = "", owner: str = "", column: str = "") -> Response:
    data = services_of(request).data
    found = data.search(q.strip() or None, owner=owner.strip() or None,
                        column=column.strip() or None)
    views = [] if owner.strip() or column.strip() else data.feature_views(q.strip() or None)
    return page(request, "datasets.html.j2", "Datasets", "data", datasets=found, views=views,
                q=q,
                owner=owner, column=column, searched=bool(q or owner or column))


@router.get("/data/{name}")
@shown("data")
def dataset(request: Request, name: str) -> Response:
    services = services_of(request)
    found = services.data.get_dataset(name)
    versions = services.data.log(name)
    validations = services.validation.search_data_validations(
        dataset=name, max_results=VALIDATIONS_SHOWN)
    return page(request, "dataset.html.j2", f"Dataset {name}", "data", dataset=found,
                versions=versions, validations=validations)


@router.get("/data/{name}/versions/{number}")
@shown("data")
def version(request: Request, name: str, number: int) -> Response:
    services = services_of(request)
    found = services.data.resolve(f"{name}@{number}")
    assert found.manifest is not None  # resolve reads it
    files = list(found.manifest.entries.items())
    profile, profile_error = (None, "")
    if found.columns:
        try:
            profile = _profile(request, found.ref, found.manifest_digest)
        except GannetError as exc:
            profile_error = f"{exc.message} {exc.hint}".strip()
    figures = {c.name: column_figure(c) for c in profile.columns} if profile else {}
    validations = services.validation.search_data_validations(
        dataset=found.ref, max_results=VALIDATIONS_SHOWN)
    return page(request, "dataset_version.html.j2", f"Dataset version {found.ref}", "data",
                version=found, files=files, profile=profile, profile_error=profile_error,
                figures=figures, validations=validations, usage=_usage(request, found.ref),
                others=[v.version for v in services.data.log(name) if v.version != number])


@router.get("/data/{name}/diff")
@shown("data")
def diff(request: Request, name: str, old: str = "", new: str = "") -> Response:
    if not (old.isdigit() and new.isdigit()):
        raise InvalidArgument(f"pick two versions of {name} to compare (got {old!r}, {new!r})",
                              "choose them in the form on the dataset's page")
    found = services_of(request).data.diff(f"{name}@{old}", f"{name}@{new}")
    return page(request, "dataset_diff.html.j2", f"{name}: version {old} against {new}",
                "data", name=name, diff=found)


def _profile(request: Request, ref: str, digest: str) -> Profile:
    with _lock:
        if digest in _profiles:
            _profiles.move_to_end(digest)
            return _profiles[digest]
    services = services_of(request)
    found = services.validation.profile_data(str(services.data.local_path(ref)))
    with _lock:
        _profiles[digest] = found
        while len(_profiles) > PROFILES_KEPT:
            _profiles.popitem(last=False)
    return found


def _usage(request: Request, ref: str) -> Usage:
    """``usage`` lists every edge; a run is shown when ``get_run`` lets the caller read it
    (as the run's page would), a model version when ``get_model_version`` does."""
    services = services_of(request)
    found = services.data.usage(ref)
    shown_usage = Usage()
    for edge in found.runs:
        try:
            run = services.tracking.get_run(edge["run_id"])
        except NotFound:  # deleted, or in a project the caller is no member of
            shown_usage.hidden += 1
            continue
        shown_usage.runs.append({**edge, "name": run.info.run_name or run.info.run_id,
                                 "status": run.info.status})
    for model_ref in found.model_versions:
        model, _, number = model_ref.rpartition("/")
        try:
            services.registry.get_model_version(model, int(number))
        except (NotFound, ValueError):
            continue
        shown_usage.models.append(model_ref)
    return shown_usage
