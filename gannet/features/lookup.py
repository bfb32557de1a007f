"""``FeatureLookup``: what the inference server calls once per micro-batch to add a
deployment's features to the request rows, before predict.

The merged batch (a pandas DataFrame holding the entities' join keys) gets one column per
feature, read with ONE online-store call per feature view for the whole batch. When the
online store is down the batch fails with ``Unavailable`` (HTTP 503), or, where the
deployment allows it (``on_unavailable="defaults"``), gets the defaults and the failure
is counted (``unavailable``: for a Prometheus counter). An entity the store has no value
for gets the feature's default (None without one).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from gannet.core.errors import InvalidArgument, InvalidInput, Unavailable
from gannet.features.online_store import OnlineStore, read_online
from gannet.features.refs import join_keys, resolve_refs
from gannet.features.types import Entity, FeatureView

MODES = ("error", "defaults")


class FeatureLookup:
    def __init__(self, store: OnlineStore, features: Sequence[str],
                 views: Mapping[str, FeatureView], entities: Mapping[str, Entity], *,
                 on_unavailable: str = "error", defaults: Mapping[str, Any] | None = None
                 ) -> None:
        if on_unavailable not in MODES:
            raise InvalidArgument(f"on_unavailable {on_unavailable!r} is not known",
                                  f"use one of {', '.join(MODES)}")
        self.store = store
        self.wanted = resolve_refs(features, views)
        self.views = {v: views[v] for v in self.wanted}
        self.entities = dict(entities)
        self.keys = list(dict.fromkeys(k for v in self.views.values()
                                       for k in join_keys(v, self.entities)))
        self.on_unavailable = on_unavailable
        self.defaults = dict(defaults or {})
        self.columns = [f for fs in self.wanted.values() for f in fs]
        self.unavailable = 0  # batches answered with defaults because the store was down
        self._lock = threading.Lock()

    def values(self, entity_columns: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        """Feature name -> one value per entity row (the join-key columns given)."""
        missing = [k for k in self.keys if k not in entity_columns]
        if missing:
            raise InvalidInput(f"the request lacks the entity key {', '.join(missing)}",
                               f"send {', '.join(self.keys)} with each row")
        n = len(entity_columns[self.keys[0]]) if self.keys else 0
        given = {k: list(entity_columns[k]) for k in self.keys}
        try:
            found = read_online(self.store, self.wanted, self.views, self.entities, given,
                                output="dict")
        except Unavailable:
            if self.on_unavailable != "defaults":
                raise
            with self._lock:
                self.unavailable += 1
            return {f: [self.defaults.get(f)] * n for f in self.columns}
        out = {}
        for feature in self.columns:
            default = self.defaults.get(feature)
            column = found[feature]
            out[feature] = column if default is None else [
                default if v is None else v for v in column]
        return out

    def enrich(self, frame: Any) -> Any:
        """``frame`` (pandas) with the features added as columns (a copy)."""
        values = self.values({k: frame[k].tolist() for k in self.keys if k in frame.columns})
        enriched = frame.copy()
        for name, column in values.items():
            enriched[name] = column
        return enriched
