"""The feature store: entities and feature views (schema, source, ttl, owner, freshness),
and one definition with its versions.

Each page is what ``gannet features list`` and ``show`` call: ``list_definitions`` and
``staleness`` (seconds since the newest value loaded into the online store, per view),
``get_definition``; which model versions, deployments and saved training sets use a view
is the data catalogue's ``feature_views``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.ui.pages import page, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/features")
@shown("features")
def features(request: Request) -> Response:
    store = services_of(request).features
    definitions = store.list_definitions()
    staleness = store.staleness()
    entities = [d for d in definitions if d["kind"] == "entity"]
    views = [_view(d, staleness.get(d["name"])) for d in definitions
             if d["kind"] == "feature_view"]
    return page(request, "features.html.j2", "Features", "features", entities=entities,
                views=views)


@router.get("/features/{name}")
@shown("features")
def definition(request: Request, name: str) -> Response:
    store = services_of(request).features
    found = store.get_definition(name)
    if found["kind"] == "entity":
        views = [d for d in store.list_definitions() if d["kind"] == "feature_view"
                 and name in d["definition"]["entities"]]
        return page(request, "feature_entity.html.j2", f"Entity {name}", "features",
                    entity=found, views=views)
    usage = [v for v in services_of(request).data.feature_views(name) if v.name == name]
    return page(request, "feature_view.html.j2", f"Feature view {name}", "features",
                view=_view(found, store.staleness().get(name)), usage=usage[0] if usage else None)


def _view(record: dict[str, Any], age: float | None) -> dict[str, Any]:
    """A view's record with its freshness: the age of its newest online value, and whether
    that is older than its ttl (its values no longer served)."""
    ttl = int(record["definition"].get("ttl") or 0)
    return {**record, "age": age, "stale": age is not None and ttl > 0 and age > ttl}
