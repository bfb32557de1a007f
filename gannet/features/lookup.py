"""``FeatureLookup``: what the inference server calls once per micro-batch to add a
deployment's features to the request rows, before predict.

The merged batch (the entities' join keys, and the request fields its on-demand features
read) gets one column per feature, read with ONE online-store call per feature view for
the whole batch; on-demand features are then computed from the request fields and the
stored features (``on_demand``). When the online store is down the batch fails with
``Unavailable`` (HTTP 503), or, where the deployment allows it
(``on_unavailable="defaults"``), gets the defaults and the failure is counted
(``unavailable``, and ``on_defaults``: for a Prometheus counter). An entity the store has
no value for gets the feature's default (None without one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gannet.core.errors import InvalidArgument, InvalidInput, Unavailable
from gannet.features.on_demand import (
    OnDemandFeatureView,
    asked_on_demand,
    compute_on_demand,
    expand_refs,
)
from gannet.features.online_store import OnlineStore, read_online
from gannet.features.refs import join_keys, resolve_refs
from gannet.features.types import Entity, FeatureView

MODES = ("error", "defaults")


class FeatureLookup:
    def __init__(self, store: OnlineStore, features: Sequence[str],
                 views: Mapping[str, FeatureView], entities: Mapping[str, Entity], *,
                 on_unavailable: str = "error", defaults: Mapping[str, Any] | None = None,
                 on_defaults: Callable[[int], None] | None = None,
                 on_demand: Mapping[str, OnDemandFeatureView] | None = None) -> None:
        if on_unavailable not in MODES:
            raise InvalidArgument(f"on_unavailable {on_unavailable!r} is not known",
                                  f"use one of {', '.join(MODES)}")
        stored, self.on_demand, self.fields = expand_refs(features, on_demand or {})
        self.store = store
        self.wanted = resolve_refs(stored, views) if stored else {}
        self.views = {v: views[v] for v in self.wanted}
        self.entities = dict(entities)
        self.keys = list(dict.fromkeys(k for v in self.views.values()
                                       for k in join_keys(v, self.entities)))
        self.on_unavailable = on_unavailable
        self.defaults = dict(defaults or {})
        asked = {str(r) for r in features}
        self.stored = [f for v, fs in self.wanted.items() for f in fs]  # read from the store
        self.columns = [f for v, fs in self.wanted.items() for f in fs if f"{v}:{f}" in asked]
        self.columns += asked_on_demand(features, self.on_demand)
        self.unavailable = 0  # batches answered with defaults because the store was down
        self.on_defaults = on_defaults  # told the rows of each such batch (a metric counts)
        self._lock = threading.Lock()

    @property
    def inputs(self) -> list[str]:
        """What each request row must carry: join keys, then request fields."""
        return [*self.keys, *(f for f in self.fields if f not in self.keys)]

    def values(self, entity_columns: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        """Feature name -> one value per entity row (the join keys and request fields
        given as columns)."""
        missing = [k for k in self.inputs if k not in entity_columns]
        if missing:
            raise InvalidInput(f"the request lacks the entity key {', '.join(missing)}",
                               f"send {', '.join(self.inputs)} with each row")
        first = self.inputs[0] if self.inputs else None
        n = len(entity_columns[first]) if first is not None else 0
        given = {k: list(entity_columns[k]) for k in self.keys}
        try:
            found = read_online(self.store, self.wanted, self.views, self.entities, given,
                                output="dict") if self.wanted else {}
        except Unavailable:
            if self.on_unavailable != "defaults":
                raise
            with self._lock:
                self.unavailable += 1
            if self.on_defaults is not None:
                self.on_defaults(n)
            return self.fallback(n)
        stored = {f: self._filled(f, found[f]) for f in self.stored}
        out = {f: stored[f] for f in self.columns if f in stored}
        if self.on_demand:
            inputs = {**{k: list(v) for k, v in entity_columns.items()}, **stored}
            computed = compute_on_demand(self.on_demand, inputs, n)
            out.update({f: self._filled(f, computed[f]) for f in self.columns
                        if f not in out})
        return out

    def _filled(self, feature: str, column: list[Any]) -> list[Any]:
        default = self.defaults.get(feature)
        return column if default is None else [default if v is None else v for v in column]

    def fallback(self, n: int) -> dict[str, list[Any]]:
        """Each feature's default (None without one) for ``n`` rows."""
        return {f: [self.defaults.get(f)] * n for f in self.columns}

    def enrich(self, frame: Any) -> Any:
        """``frame`` (pandas) with the features added as columns (a copy)."""
        values = self.values({k: frame[k].tolist() for k in self.inputs if k in frame.columns})
        enriched = frame.copy()
        for name, column in values.items():
            enriched[name] = column
        return enriched
