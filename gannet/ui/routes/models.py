"""Registered models: their versions, aliases, signature, lineage and model card;
promotion, and removing an alias (``delete_registered_model_alias``).

A version's lineage is the data capability's ``usage("NAME/VERSION")``, what ``gannet
lineage NAME/VERSION`` answers: the run it came from and the dataset versions that run
used (or, for a version a training policy made, those found upstream of it).

Promoting is two steps, so that the gates' results are seen before anything moves: the
check (``check_promotion_gates``, a GET that changes nothing) shows each gate, and its
page holds the POST form (CSRF-checked) that calls ``promote``, which checks the gates
again and moves the alias only if every one passes. The service decides who may.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gannet.ui.dag import Drawing, layout
from gannet.ui.pages import form_of, in_thread, page, see_other, services_of, shown

if TYPE_CHECKING:
    from gannet.data.types import Usage

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/models")
@shown("models")
def models(request: Request) -> Response:
    found = services_of(request).registry.search_registered_models(order_by=["name ASC"])
    return page(request, "models.html.j2", "Models", "models", models=found)


@router.get("/models/{name}")
@shown("models")
def model(request: Request, name: str) -> Response:
    registry = services_of(request).registry
    found = registry.get_registered_model(name)
    versions = registry.search_model_versions(name)
    return page(request, "model.html.j2", f"Model {name}", "models", model=found,
                versions=versions)


@router.post("/models/{name}/aliases/{alias}/delete")
@shown("models")
async def remove_alias(request: Request, name: str, alias: str) -> Response:
    await form_of(request)
    await in_thread(services_of(request).registry.delete_registered_model_alias, name, alias)
    return see_other(f"/ui/models/{quote(name, safe='')}")


@router.get("/models/{name}/versions/{version}")
@shown("models")
def version(request: Request, name: str, version: int) -> Response:
    services = services_of(request)
    found = services.registry.get_model_version(name, version)
    lineage = services.data.usage(found.ref)  # what gannet lineage NAME/VERSION answers
    return page(request, "version.html.j2", f"{name} version {version}", "models",
                version=found, lineage=lineage, graph=_lineage_graph(found.ref, lineage))


def _lineage_graph(ref: str, lineage: Usage) -> tuple[Drawing, dict[str, tuple[str, str]]]:
    """The lineage as a graph: dataset versions -> the runs that used them -> the model
    version; each box's (kind, link)."""
    runs = [r["run_id"] for r in lineage.runs]
    runs += [d["run_id"] for d in lineage.datasets if d.get("run_id") and d["run_id"] not in runs]
    datasets = list(dict.fromkeys(d["dataset_version"] for d in lineage.datasets))
    edges = [(d["dataset_version"], d["run_id"]) for d in lineage.datasets if d.get("run_id")]
    edges += [(run, ref) for run in runs[:len(lineage.runs)]]
    links = {d: ("dataset", "/ui/data/{}/versions/{}".format(
        quote(d.rpartition("@")[0], safe=""), d.rpartition("@")[2])) for d in datasets}
    links.update({r: ("run", f"/ui/runs/{r}") for r in runs})
    name, _, number = ref.rpartition("/")
    links[ref] = ("model", f"/ui/models/{quote(name, safe='')}/versions/{number}")
    return layout([*datasets, *runs, ref], edges), links


@router.get("/models/{name}/versions/{version}/card")
@shown("models")
def card(request: Request, name: str, version: int) -> Response:
    """The registry's HTML card, framed by the version's page; no script may run in it."""
    html = services_of(request).registry.get_model_card(name, version, "html")
    return HTMLResponse(html, headers={"content-security-policy":
                                       "default-src 'none'; style-src 'unsafe-inline'; sandbox"})


@router.get("/models/{name}/versions/{version}/promote")
@shown("models")
def check_promotion(request: Request, name: str, version: int, alias: str) -> Response:
    results = services_of(request).registry.check_promotion_gates(name, version, alias)
    return page(request, "promote.html.j2", f"Promote {name} version {version} to {alias}",
                "models", name=name, version=version, alias=alias, results=results,
                promotion=None)


@router.post("/models/{name}/versions/{version}/promote")
@shown("models")
async def promote(request: Request, name: str, version: int) -> Response:
    form = await form_of(request)
    alias = form.get("alias", "")
    done = await in_thread(services_of(request).registry.promote, name, version, alias,
                            form.get("reason", ""))
    title = (f"Promoted {name} version {version} to {alias}" if done.promoted
             else f"Not promoted: {name} version {version} to {alias}")
    return page(request, "promote.html.j2", title, "models", name=name, version=version,
                alias=alias, results=done.results, promotion=done,
                status_code=200 if done.promoted else 409)

