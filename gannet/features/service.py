"""``FeatureStore``: register definitions, build training sets, materialize and serve
online values. One instance per ``Services``; the online store is opened on first use."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from gannet.core.actor import EDITOR, READER, require_anywhere
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound, NotSupported
from gannet.core.settings import Settings
from gannet.features import repository
from gannet.features.definitions import (
    Change,
    Definition,
    compare,
    definition_from_mapping,
    load_definitions,
)
from gannet.features.on_demand import KIND as ON_DEMAND
from gannet.features.on_demand import OnDemandFeatureView, expand_refs
from gannet.features.outputs import check_output
from gannet.features.provenance import DatasetWriter
from gannet.features.refs import join_keys, resolve_refs
from gannet.features.sources import DatasetResolver, check_dataset_sources, relation_sql
from gannet.features.types import Entity, FeatureView
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from gannet.features.lookup import FeatureLookup
    from gannet.features.materialization import Materialization
    from gannet.features.online_store import OnlineStore

KINDS = {"entity": Entity, "feature_view": FeatureView, ON_DEMAND: OnDemandFeatureView}
# how long registered definitions are reused before they are read again (another process
# may have applied new ones); this process's own ``apply`` refreshes them at once
DEFINITIONS_TTL = 5.0


class FeatureStore:
    def __init__(self, metadata: MetadataStore, settings: Settings,
                 resolve_dataset: DatasetResolver | None = None,
                 write_dataset: DatasetWriter | None = None,
                 users_of: Callable[[str], list[str]] | None = None) -> None:
        self.metadata = metadata
        self.settings = settings
        self.resolve_dataset = resolve_dataset  # dataset versions as sources (churn@3)
        self.write_dataset = write_dataset  # training sets saved as dataset versions
        self.users_of = users_of  # a view -> the model versions and deployments using it
        self._online: OnlineStore | None = None
        self._cached: tuple[float, dict[str, FeatureView], dict[str, Entity],
                            dict[str, OnDemandFeatureView]] | None = None
        self._versions: dict[str, int] = {}  # definition name -> newest version
        self._wanted: dict[tuple[str, ...], dict[str, list[str]]] = {}

    # -- definitions ---------------------------------------------------------------------

    def apply(self, definitions: Any, *, dry_run: bool = False,
              dataset_sources_only: bool = False) -> list[Change]:
        """Register entities and feature views (a list of objects, a YAML file or text): a
        changed definition gets a new version; each change is reported, breaking ones
        (a feature dropped or retyped, other join keys) named. ``dataset_sources_only``
        (definitions a team server's caller sends): views may read dataset versions
        only, never a path or a query on the server's machine."""
        from gannet.features.schema_check import typed_view

        require_anywhere(READER if dry_run else EDITOR, "register feature definitions")
        if dataset_sources_only and isinstance(definitions, str):
            definitions += "\n"  # YAML text, never the name of a file on this machine
        items = load_definitions(definitions)
        _no_duplicates(items)
        if dataset_sources_only:
            check_dataset_sources(items)
        with self.metadata.read() as conn:
            latest = {(r["kind"], r["name"]): r for r in repository.latest_definitions(conn)}
        entities = {e.name: e for e in self._decode_all(latest.values(), Entity)}
        entities.update({i.name: i for i in items if isinstance(i, Entity)})
        views = {v.name: v for v in self._decode_all(latest.values(), FeatureView)}
        views.update({i.name: i for i in items if isinstance(i, FeatureView)})
        plan: list[tuple[Change, str, str]] = []
        for item in items:
            if isinstance(item, FeatureView):
                item = typed_view(item, entities, self._relation(item))
            elif isinstance(item, OnDemandFeatureView) and item.feature_refs:
                resolve_refs(item.feature_refs, views)  # its sources exist, or NotFound
            kind = next(k for k, t in KINDS.items() if isinstance(item, t))
            body = orjson.dumps(item.to_dict(), option=orjson.OPT_SORT_KEYS).decode()
            digest = hashlib.sha256(body.encode()).hexdigest()
            old = latest.get((kind, item.name))
            if old is None:
                plan.append((Change(kind, item.name, 1, "created"), body, digest))
            elif old["digest"] == digest:
                plan.append((Change(kind, item.name, old["version"], "unchanged"), body, digest))
            else:
                changes, breaking = compare(orjson.loads(old["definition"]), item.to_dict())
                affects = self._users_of(item.name) if breaking else []
                plan.append((Change(kind, item.name, old["version"] + 1, "updated", changes,
                                    breaking, affects), body, digest))
        if not dry_run:
            self._store(plan)
            self._cached = None
        return [change for change, _, _ in plan]

    def _users_of(self, view: str) -> list[str]:
        """Who a breaking change of ``view`` would break (the data catalogue knows)."""
        return self.users_of(view) if self.users_of is not None else []

    def _store(self, plan: list[tuple[Change, str, str]]) -> None:
        now = now_ms()
        with self.metadata.write() as conn:
            for change, body, digest in plan:
                if change.status != "unchanged":
                    repository.insert_definition(
                        conn, kind=change.kind, name=change.name, version=change.version,
                        definition=body, digest=digest, created_time=now)

    def list_definitions(self) -> list[dict[str, Any]]:
        """The newest version of every entity and feature view."""
        require_anywhere(READER, "read feature definitions")
        with self.metadata.read() as conn:
            rows = repository.latest_definitions(conn)
        return [_record(r) for r in rows]

    def get_definition(self, name: str) -> dict[str, Any]:
        """A feature view (or else an on-demand view, or an entity) by name: its newest
        definition and versions."""
        require_anywhere(READER, "read feature definitions")
        with self.metadata.read() as conn:
            for kind in ("feature_view", ON_DEMAND, "entity"):
                rows = repository.definition_versions(conn, kind, name)
                if rows:
                    return {**_record(rows[0]),
                            "versions": [{"version": r["version"],
                                          "created_time": r["created_time"]} for r in rows]}
            known = [r["name"] for r in repository.latest_definitions(conn)]
        import difflib

        close = difflib.get_close_matches(name, known, n=5)
        raise NotFound(f"no feature view or entity named {name!r}",
                       f"did you mean {', '.join(close)}?" if close
                       else "see gannet features list")

    def registered(self) -> tuple[dict[str, FeatureView], dict[str, Entity]]:
        """The newest feature views and entities (read at most every DEFINITIONS_TTL s)."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < DEFINITIONS_TTL:
            return cached[1], cached[2]
        with self.metadata.read() as conn:
            rows = repository.latest_definitions(conn)
        views = {v.name: v for v in self._decode_all(rows, FeatureView)}
        entities = {e.name: e for e in self._decode_all(rows, Entity)}
        on_demand = {v.name: v for v in self._decode_all(rows, OnDemandFeatureView)}
        self._cached, self._wanted = (time.monotonic(), views, entities, on_demand), {}
        self._versions = {row["name"]: row["version"] for row in rows}
        return views, entities

    def on_demand_views(self) -> dict[str, OnDemandFeatureView]:
        """The newest on-demand feature views (read with ``registered``)."""
        self.registered()
        assert self._cached is not None
        return self._cached[3]

    def _resolve(self, features: Sequence[str] | str,
                 views: dict[str, FeatureView]) -> dict[str, list[str]]:
        key = (features,) if isinstance(features, str) else tuple(features)
        wanted = self._wanted.get(key)
        if wanted is None:
            wanted = self._wanted[key] = resolve_refs(features, views)
        return wanted

    def check_refs(self, features: Sequence[str] | str) -> dict[str, list[str]]:
        """View name -> its features asked for; an unknown one is ``NotFound`` naming it
        and close matches."""
        views, _ = self.registered()
        stored, on_demand, _ = expand_refs(features, self.on_demand_views())
        found = resolve_refs(stored, views) if stored or not on_demand else {}
        for view in on_demand:
            found[view.name] = view.feature_names
        return found

    def definitions_digest(self, features: Sequence[str] | str) -> str:
        """A digest of the definitions ``features`` are read with (their views, entities
        and on-demand views): it changes when one of them gets a new version."""
        views, entities = self.registered()
        stored, on_demand, _ = expand_refs(features, self.on_demand_views())
        names = {r.partition(":")[0] for r in stored}
        parts = [views[n].digest_bytes() for n in sorted(names) if n in views]
        used = sorted({e for n in names if n in views for e in views[n].entities})
        parts += [orjson.dumps(entities[e].to_dict()) for e in used if e in entities]
        parts += [v.digest_bytes() for v in on_demand]
        return hashlib.sha256(b"\n".join(parts)).hexdigest()

    @staticmethod
    def _decode_all(rows: Any, kind: type) -> list[Any]:
        out = []
        for row in rows:
            if KINDS[row["kind"]] is kind:
                out.append(definition_from_mapping(orjson.loads(row["definition"])))
        return out

    # -- offline ---------------------------------------------------------------------------

    def training_set(self, entity_df: Any, features: Sequence[str] | str, *,
                     output: str = "pandas", save_as: str | None = None, message: str = "",
                     run_id: str | None = None) -> Any:
        """``entity_df`` (join keys and ``event_timestamp``) with each feature's value as
        it was at each row's time. ``save_as``: also store it as a version of that dataset,
        with lineage to the views (at their versions) and their source dataset versions,
        and as an input of run ``run_id`` when given (pandas answers carry the version's
        ref in ``attrs["gannet.dataset_version"]``, Arrow ones in their schema metadata)."""
        from gannet.features.offline import training_set
        from gannet.features.on_demand_frames import with_on_demand

        require_anywhere(READER, "read features")
        check_output(output)
        if save_as is not None and self.write_dataset is None:
            raise NotSupported("this feature store cannot save training sets",
                               "build it through gannet's services (gannet.configure)")
        views, entities = self.registered()
        stored, on_demand, _ = expand_refs(features, self.on_demand_views())
        asked = "arrow" if save_as is not None else output
        if not on_demand:
            wanted = resolve_refs(features, views)
            relations = {v: self._relation(views[v]) for v in wanted}
            result = training_set(entity_df, wanted, views, entities, relations, output=asked)
        else:
            wanted = resolve_refs(stored, views) if stored else {}
            relations = {v: self._relation(views[v]) for v in wanted}
            frame = training_set(entity_df, wanted, views, entities, relations) if wanted \
                else _as_pandas(entity_df)
            result = with_on_demand(frame, features, wanted, on_demand, asked)
        if save_as is None:
            return result
        used = [*wanted, *(v.name for v in on_demand)]
        return self._save(result, used, views, save_as, message, run_id, output)

    def _save(self, table: Any, used: list[str], views: Mapping[str, FeatureView], name: str,
              message: str, run_id: str | None, output: str) -> Any:
        from gannet.features.offline import from_arrow
        from gannet.features.provenance import training_set_inputs

        inputs = training_set_inputs(used, views, self._versions)
        assert self.write_dataset is not None
        ref = self.write_dataset(table, name, message, inputs, run_id)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"gannet.dataset_version": ref.encode()})
        result = from_arrow(table, output)
        if output == "pandas":
            result.attrs["gannet.dataset_version"] = ref
        return result

    def view_table(self, name: str) -> Any:
        """The rows of feature view ``name`` as its source holds them (join keys, event
        time and features) as an Arrow table: what validation suites and profiles run on."""
        from gannet.features.offline import view_rows

        require_anywhere(READER, "read features")
        views, entities = self.registered()
        view = _choose(views, [name])[0]
        return view_rows(view, join_keys(view, entities), self._relation(view))

    def _relation(self, view: FeatureView) -> str:
        return relation_sql(view.source, self.resolve_dataset)

    # -- online ----------------------------------------------------------------------------

    @property
    def online_store(self) -> OnlineStore:
        if self._online is None:
            from gannet.features.online_store import open_online_store

            self._online = open_online_store(self.settings)
        return self._online

    def materialize(self, start: Any = None, end: Any = None,
                    views: Sequence[str] | None = None) -> list[Materialization]:
        """Load each view's newest values with a timestamp in (start, end] into the online
        store; without ``start``, from where the last materialization of that view ended."""
        from gannet.features.materialization import materialize

        require_anywhere(EDITOR, "materialize features")
        registered, entities = self.registered()
        chosen = _choose(registered, views)
        with self.metadata.read() as conn:
            done = repository.materializations(conn)
        relations = {v.name: self._relation(v) for v in chosen}
        results = materialize(chosen, entities, relations, self.online_store, done, start, end)
        with self.metadata.write() as conn:
            for r in results:
                repository.save_materialization(
                    conn, view=r.view, materialized_until=r.until_us,
                    newest_event_time=r.newest_us, rows=r.rows, finished_time=now_ms())
        return results

    def online(self, features: Sequence[str] | str, entity_rows: Any, *,
               output: str = "pandas") -> Any:
        """The newest values of ``features`` for each entity row (one row out per row in;
        missing values are None), with one read of the online store per view."""
        from gannet.features.online_store import read_online

        require_anywhere(READER, "read features")
        views, entities = self.registered()
        stored, on_demand, _ = expand_refs(features, self.on_demand_views())
        if not on_demand:
            wanted = self._resolve(features, views)
            return read_online(self.online_store, wanted, views, entities, entity_rows, output)
        from gannet.features.on_demand_frames import online_on_demand

        wanted = self._resolve(stored, views) if stored else {}
        found = read_online(self.online_store, wanted, views, entities, entity_rows, "dict")
        return online_on_demand(found, features, wanted, on_demand, output)

    def lookup(self, features: Sequence[str], *, on_unavailable: str = "error",
               defaults: Mapping[str, Any] | None = None,
               on_defaults: Callable[[int], None] | None = None) -> FeatureLookup:
        """What the inference server calls per micro-batch to add ``features``
        (``on_defaults``: told the rows answered with defaults, the store being down)."""
        from gannet.features.lookup import FeatureLookup

        views, entities = self.registered()
        return FeatureLookup(self.online_store, features, views, entities,
                             on_unavailable=on_unavailable, defaults=defaults,
                             on_defaults=on_defaults, on_demand=self.on_demand_views())

    def staleness(self) -> dict[str, float | None]:
        """Seconds since the newest value loaded into the online store, per feature view
        (None: never materialized)."""
        views, _ = self.registered()
        with self.metadata.read() as conn:
            done = repository.materializations(conn)
        now_us = now_ms() * 1000
        out: dict[str, float | None] = {}
        for name in views:
            newest = (done.get(name) or {}).get("newest_event_time")
            out[name] = None if newest is None else (now_us - int(newest)) / 1e6
        return out

    def close(self) -> None:
        if self._online is not None:
            self._online.close()


def _choose(views: dict[str, FeatureView], names: Sequence[str] | None) -> list[FeatureView]:
    if not names:
        return list(views.values())
    missing = [n for n in names if n not in views]
    if missing:
        raise NotFound(f"feature view {', '.join(missing)} is not registered",
                       f"registered: {', '.join(views) or 'none'}")
    return [views[n] for n in names]


def _as_pandas(frame: Any) -> Any:
    from gannet.features.offline import to_arrow

    if hasattr(frame, "iloc"):
        return frame.reset_index(drop=True)
    return to_arrow(frame).to_pandas()


def _no_duplicates(items: list[Definition]) -> None:
    seen: set[tuple[type, str]] = set()
    for item in items:
        key = (type(item), item.name)
        if key in seen:
            raise InvalidArgument(f"{item.name!r} is defined twice", "keep one definition")
        seen.add(key)


def _record(row: Any) -> dict[str, Any]:
    return {"kind": row["kind"], "name": row["name"], "version": row["version"],
            "created_time": row["created_time"],
            "definition": orjson.loads(row["definition"])}
