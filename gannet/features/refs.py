"""Feature references (``view:feature``) resolved against the registered views."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from gannet.core.errors import InvalidArgument, NotFound
from gannet.features.types import Entity, FeatureView


def parse_refs(features: Sequence[str] | str) -> list[tuple[str, str]]:
    if isinstance(features, str):
        features = [features]
    if not features:
        raise InvalidArgument("no features were asked for",
                              'name them as "view:feature", e.g. "churn_stats:orders_30d"')
    out = []
    for ref in features:
        view, sep, feature = str(ref).partition(":")
        if not sep or not view or not feature:
            raise InvalidArgument(f"feature {ref!r} is not of the form view:feature",
                                  'write e.g. "churn_stats:orders_30d"')
        out.append((view, feature))
    return out


def resolve_refs(features: Sequence[str] | str,
                 views: Mapping[str, FeatureView]) -> dict[str, list[str]]:
    """View name -> its requested features, in the order asked; an unknown view or
    feature is a ``NotFound`` that lists close matches."""
    wanted: dict[str, list[str]] = {}
    everything = [f"{v.name}:{f}" for v in views.values() for f in v.feature_names]
    for view_name, feature in parse_refs(features):
        view = views.get(view_name)
        if view is None:
            raise NotFound(f"feature view {view_name!r} is not registered",
                           _close(f"{view_name}:{feature}", everything,
                                  "register it with gannet features apply"))
        if feature not in view.feature_names:
            raise NotFound(f"feature {view_name}:{feature} does not exist",
                           _close(f"{view_name}:{feature}", everything,
                                  f"{view_name} has {', '.join(view.feature_names)}"))
        if feature not in wanted.setdefault(view_name, []):
            wanted[view_name].append(feature)
    return wanted


def _close(ref: str, candidates: list[str], otherwise: str) -> str:
    matches = difflib.get_close_matches(ref, candidates, n=5, cutoff=0.6)
    return f"did you mean {', '.join(matches)}?" if matches else otherwise


def join_keys(view: FeatureView, entities: Mapping[str, Entity]) -> list[str]:
    """The join keys of a view's entities, in order."""
    keys: list[str] = []
    for name in view.entities:
        entity = entities.get(name)
        if entity is None:
            raise NotFound(f"entity {name!r} of feature view {view.name!r} is not registered",
                           "register the entity (gannet features apply) with the view")
        keys += [k for k in entity.join_keys if k not in keys]
    return keys


def output_names(wanted: Mapping[str, list[str]],
                 taken: Sequence[str]) -> dict[tuple[str, str], str]:
    """The output column of each (view, feature): the feature's name, or ``view__feature``
    where two views share a name or the entity frame already has that column."""
    counts: dict[str, int] = {}
    for features in wanted.values():
        for f in features:
            counts[f] = counts.get(f, 0) + 1
    return {(v, f): f if counts[f] == 1 and f not in taken else f"{v}__{f}"
            for v, features in wanted.items() for f in features}
