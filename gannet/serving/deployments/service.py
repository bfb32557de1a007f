"""Deployments: what the inference server serves, changed one revision at a time.

A deployment names one registered model and routes its traffic between references of
that model (``churn/3``, ``churn@champion``) by relative weights; it may also copy
traffic to shadow references, pin callers to a route by a sticky key (A/B tests), and
mask or hash input columns in the inference log.

Every change writes, in one transaction, a new revision row (history is append-only),
moves the deployment's current revision, and appends an audit entry. Two writers cannot
both make revision N+1: the deployment row is locked (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: ``SELECT ... FOR UPDATE``) and the revision's primary key refuses a second
N+1 anyway. A change that changes nothing writes nothing.

Rollback makes the state of the revision *before the current one* current again, as a
new revision: rolling back twice therefore returns to where the first rollback started
(like ``cd -``); ``to=`` picks any older revision instead.

``current(name)`` is what servers poll (``DeploymentSource``): one query joining the
deployment row to its current revision by primary keys.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.auth.service import AuthService
from gannet.core.clock import now_ms
from gannet.core.errors import (
    AlreadyExists,
    Conflict,
    GannetError,
    InvalidArgument,
    InvalidState,
    NotFound,
)
from gannet.core.settings import Settings
from gannet.registry.service import RegistryService
from gannet.registry.types import VersionStatus, parse_ref
from gannet.serving.tables import deployment_revisions, deployments
from gannet.serving.types import DeploymentState, Route
from gannet.store.metadata import MetadataStore

__all__ = ["STATE_FORMAT", "DeploymentInfo", "DeploymentService", "traffic_shares"]

STATE_FORMAT = 1  # the "format" of a revision's state JSON; a newer one is refused
_NAME = re.compile(r"^[A-Za-z0-9][\w\-.]{0,255}$")  # as model names
_STICKY = re.compile(r"^[A-Za-z0-9_][\w.\-]{0,99}$")  # a header name or a JSON field
_VERSION = re.compile(r"^[vV]?(\d+)$")
_CONTENT = ("routes", "shadows", "sticky_key", "log_masked", "log_hashed")
_REF_HINT = "write a version (3), a reference (churn/3, churn@champion) or an alias (@champion)"

RouteSpec = Mapping[str | int, float]

_ROW = (  # what makes a DeploymentState: the deployment and one of its revisions
    deployments.c.name,
    deployments.c.model,
    deployment_revisions.c.revision,
    deployment_revisions.c.state,
    deployment_revisions.c.reason,
    deployment_revisions.c.user_id,
    deployment_revisions.c.time,
)
_REVISIONS = (
    sa.select(*_ROW)
    .select_from(deployments)
    .join(deployment_revisions, deployment_revisions.c.name == deployments.c.name)
)
_CURRENT = _REVISIONS.where(deployment_revisions.c.revision == deployments.c.current_revision)
_CURRENT_ONE = _CURRENT.where(deployments.c.name == sa.bindparam("name"))


@dataclass(frozen=True)
class DeploymentInfo:
    """A deployment as people look at it: its state, who made it, and what each ref is now."""

    state: DeploymentState
    description: str
    created_by: str
    creation_time: int
    resolved: dict[str, int | None]  # ref -> the version it resolves to now (None: it does not)


def traffic_shares(routes: Iterable[Route]) -> dict[str, float]:
    """Each route's share of the traffic in percent (weights are relative)."""
    routes = tuple(routes)
    total = sum(r.weight for r in routes)
    return {r.ref: 100.0 * r.weight / total for r in routes} if total > 0 else {}


class DeploymentService:
    def __init__(
        self,
        metadata: MetadataStore,
        registry: RegistryService,
        auth: AuthService,
        settings: Settings,
    ) -> None:
        self.metadata = metadata
        self.registry = registry
        self.auth = auth
        self.settings = settings

    # -- reading -------------------------------------------------------------------------

    def current(self, name: str) -> DeploymentState:
        """The deployment's state now: one query by primary keys (servers poll this)."""
        with self.metadata.read() as conn:
            row = conn.execute(_CURRENT_ONE, {"name": name}).first()
        if row is None:
            raise _not_found(name)
        return _state(row)

    def describe(self, name: str) -> DeploymentInfo:
        """The current state, who created the deployment, and the version behind each ref."""
        with self.metadata.read() as conn:
            row = (
                conn.execute(sa.select(deployments).where(deployments.c.name == name))
                .mappings()
                .first()
            )
            state_row = conn.execute(_CURRENT_ONE, {"name": name}).first()
        if row is None or state_row is None:
            raise _not_found(name)
        state = _state(state_row)
        resolved: dict[str, int | None] = {}
        for ref in (*(r.ref for r in state.routes), *state.shadows):
            try:
                resolved[ref] = self.registry.resolve(ref).version
            except GannetError:
                resolved[ref] = None
        return DeploymentInfo(
            state, row["description"], row["created_by"], row["creation_time"], resolved
        )

    def list(self, model: str | None = None) -> list[DeploymentState]:
        """Every deployment's current state by name (only ``model``'s when given)."""
        stmt = _CURRENT.order_by(deployments.c.name)
        if model is not None:
            stmt = stmt.where(deployments.c.model == model)
        with self.metadata.read() as conn:
            return [_state(row) for row in conn.execute(stmt)]

    def history(self, name: str) -> list[DeploymentState]:
        """Every revision of the deployment, newest first."""
        stmt = _REVISIONS.where(deployments.c.name == name).order_by(
            deployment_revisions.c.revision.desc()
        )
        with self.metadata.read() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            raise _not_found(name)
        return [_state(row) for row in rows]

    # -- changing ------------------------------------------------------------------------

    def create(
        self,
        name: str,
        model: str,
        routes: RouteSpec | None = None,
        *,
        description: str = "",
        sticky_key: str | None = None,
        reason: str = "",
    ) -> DeploymentState:
        """A new deployment of ``model``; ``routes`` default to ``model@champion`` (when
        that alias exists, else ``model@latest``) with all the traffic."""
        _check_name(name)
        registered = self.registry.get_registered_model(model)
        if routes is None:
            if registered.latest_version is None:
                raise InvalidState(
                    f"model {model!r} has no versions yet: there is nothing to deploy",
                    f"register one first: gannet models register RUN_ID {model}",
                )
            routes = {"@champion" if "champion" in registered.aliases else "@latest": 1}
        now, user = now_ms(), self.settings.user
        state = DeploymentState(
            name=name,
            model=model,
            routes=self._routes(model, routes),
            sticky_key=_check_sticky(sticky_key),
            revision=1,
            updated_time=now,
            updated_by=user,
            reason=reason,
        )
        try:
            with self.metadata.write() as conn:
                exists = conn.execute(
                    sa.select(deployments.c.name).where(deployments.c.name == name)
                ).first()
                if exists is not None:
                    raise _exists(name)
                conn.execute(
                    deployments.insert().values(
                        name=name,
                        model=model,
                        description=description,
                        current_revision=1,
                        created_by=user,
                        creation_time=now,
                        last_update_time=now,
                    )
                )
                _insert_revision(conn, state)
                self.auth.record(
                    conn,
                    "deployment.create",
                    _target(name),
                    {"model": model, "to": _summary(state), "reason": reason, "revision": 1},
                )
        except sa.exc.IntegrityError as exc:  # created by someone else at the same moment
            raise _exists(name) from exc
        return state

    def set_traffic(self, name: str, routes: RouteSpec, reason: str = "") -> DeploymentState:
        """Route the traffic by ``routes`` (ref or version -> relative weight > 0).

        A ref that now gets traffic stops being a shadow.
        """

        def change(current: DeploymentState) -> DeploymentState:
            new_routes = self._routes(current.model, routes)
            taken = {r.ref for r in new_routes}
            shadows = tuple(s for s in current.shadows if s not in taken)
            return replace(current, routes=new_routes, shadows=shadows)

        return self._change(name, "deployment.traffic", reason, change)

    def set_sticky(self, name: str, key: str | None, reason: str = "") -> DeploymentState:
        """Pin each caller to one route by ``key`` (a request header or JSON field); None
        routes every request afresh."""
        sticky = _check_sticky(key)
        return self._change(
            name, "deployment.sticky", reason, lambda s: replace(s, sticky_key=sticky)
        )

    def shadow(
        self, name: str, refs: Sequence[str | int] | None, reason: str = ""
    ) -> DeploymentState:
        """Copy the traffic to ``refs`` too (answers are logged, never returned); None or
        an empty list stops shadowing."""

        def change(current: DeploymentState) -> DeploymentState:
            shadows = self._refs(current.model, refs or ())
            routed = {r.ref for r in current.routes} & set(shadows)
            if routed:
                raise InvalidArgument(
                    f"{', '.join(sorted(routed))} already serve traffic in {name!r}; "
                    "a shadow is a ref that gets a copy of it",
                    "shadow a ref that has no route, or change the traffic first",
                )
            return replace(current, shadows=shadows)

        return self._change(name, "deployment.shadow", reason, change)

    def set_log_fields(
        self,
        name: str,
        masked: Iterable[str] = (),
        hashed: Iterable[str] = (),
        reason: str = "",
    ) -> DeploymentState:
        """Input columns the inference log stores as ``***`` (masked) or as a salted hash
        (hashed, still joinable); replaces the previous lists."""
        masked_t, hashed_t = _columns(masked, "masked"), _columns(hashed, "hashed")
        both = set(masked_t) & set(hashed_t)
        if both:
            raise InvalidArgument(
                f"column(s) {', '.join(sorted(both))} cannot be both masked and hashed",
                "choose one for each column",
            )
        return self._change(
            name,
            "deployment.log_fields",
            reason,
            lambda s: replace(s, log_masked=masked_t, log_hashed=hashed_t),
        )

    def rollback(self, name: str, reason: str = "", *, to: int | None = None) -> DeploymentState:
        """Make the revision before the current one (or revision ``to``) current again, as
        a new revision. Its refs must still resolve."""

        restored: dict[str, Any] = {}

        def change(current: DeploymentState) -> DeploymentState:
            target = current.revision - 1 if to is None else int(to)
            if current.revision == 1 and to is None:
                raise InvalidState(
                    f"deployment {name!r} has only one revision: nothing to roll back to",
                    f"see its history: gannet deployments show {name} --history",
                )
            if not 1 <= target < current.revision:
                raise InvalidArgument(
                    f"cannot roll {name!r} back to revision {target}: it is at revision "
                    f"{current.revision}",
                    f"give an earlier revision (gannet deployments show {name} --history)",
                )
            old = self._revision(name, target)
            self._refs(current.model, [*(r.ref for r in old.routes), *old.shadows])
            restored["restored_revision"] = target
            return replace(current, **{k: getattr(old, k) for k in _CONTENT})

        return self._change(name, "deployment.rollback", reason, change, restored)

    def delete(self, name: str) -> None:
        """Remove the deployment and its history (the audit log keeps what happened)."""
        with self.metadata.write() as conn:
            current = self._lock(conn, name)
            conn.execute(deployment_revisions.delete().where(deployment_revisions.c.name == name))
            conn.execute(deployments.delete().where(deployments.c.name == name))
            self.auth.record(
                conn,
                "deployment.delete",
                _target(name),
                {"from": _summary(current), "revision": current.revision},
            )

    # -- the deployable bundle -------------------------------------------------------------

    def bundle(
        self,
        name: str,
        dest: str | Path,
        *,
        image: str | None = None,
        port: int = 8080,
        replicas: int = 2,
    ) -> list[Path]:
        """Write a Dockerfile, requirements and Kubernetes manifests that serve ``name``
        (see ``gannet.serving.bundle``); ``image`` defaults to ``python:X.Y-slim`` of the
        Python the served models were saved with."""
        from gannet.serving.bundle import bundle_deployment

        return bundle_deployment(
            self.registry,
            self.settings.trusted_keys,
            self.current(name),
            Path(dest),
            image=image,
            port=port,
            replicas=replicas,
        )

    # -- the one way a deployment changes ---------------------------------------------------

    def _change(
        self,
        name: str,
        action: str,
        reason: str,
        change: Callable[[DeploymentState], DeploymentState],
        extra: Mapping[str, Any] | None = None,
    ) -> DeploymentState:
        """Lock the deployment, compute its next state from the current one, and write it
        as revision N+1 with its audit entry — or nothing, when nothing changes.

        ``extra``: more audit detail (read after ``change`` ran, so it may fill it).
        """
        try:
            with self.metadata.write() as conn:
                current = self._lock(conn, name)
                target = change(current)
                if _content(target) == _content(current):
                    return current
                now = now_ms()
                new = replace(
                    target,
                    revision=current.revision + 1,
                    updated_time=now,
                    updated_by=self.settings.user,
                    reason=reason,
                )
                _insert_revision(conn, new)
                moved = conn.execute(
                    deployments.update()
                    .where(
                        deployments.c.name == name,
                        deployments.c.current_revision == current.revision,
                    )
                    .values(current_revision=new.revision, last_update_time=now)
                )
                if moved.rowcount != 1:
                    raise _conflict(name)
                before, after = _summary(current), _summary(new)
                changed = [k for k in after if after[k] != before[k]]
                self.auth.record(
                    conn,
                    action,
                    _target(name),
                    {
                        "from": {k: before[k] for k in changed},
                        "to": {k: after[k] for k in changed},
                        "from_revision": current.revision,
                        "revision": new.revision,
                        "reason": reason,
                        **(extra or {}),
                    },
                )
        except sa.exc.IntegrityError as exc:  # revision N+1 exists: written concurrently
            raise _conflict(name) from exc
        return new

    def _lock(self, conn: Connection, name: str) -> DeploymentState:
        """The current state, with the deployment row locked until the transaction ends.

        Two statements on purpose: PostgreSQL re-checks a locked row after waiting, and a
        join would then compare the new current revision with the old revision row.
        """
        locked = conn.execute(
            sa.select(deployments.c.current_revision)
            .where(deployments.c.name == name)
            .with_for_update()
        ).first()
        if locked is None:
            raise _not_found(name)
        row = conn.execute(_CURRENT_ONE, {"name": name}).first()
        if row is None:
            raise _conflict(name)
        return _state(row)

    def _revision(self, name: str, revision: int) -> DeploymentState:
        stmt = _REVISIONS.where(
            deployments.c.name == name, deployment_revisions.c.revision == revision
        )
        with self.metadata.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            raise NotFound(
                f"deployment {name!r} has no revision {revision}",
                f"see its history: gannet deployments show {name} --history",
            )
        return _state(row)

    # -- validation -------------------------------------------------------------------------

    def _routes(self, model: str, routes: RouteSpec) -> tuple[Route, ...]:
        if not isinstance(routes, Mapping) or not routes:
            raise InvalidArgument(
                f"routes must map refs to weights, got {routes!r}",
                "e.g. {'churn/3': 90, 'churn/4': 10}",
            )
        refs = self._refs(model, list(routes))
        return tuple(
            Route(ref, _weight(ref, weight))
            for ref, weight in zip(refs, routes.values(), strict=True)
        )

    def _refs(self, model: str, keys: Iterable[str | int]) -> tuple[str, ...]:
        """Normalised refs of ``model`` (``churn/3``, ``churn@champion``) that resolve now
        to READY versions; each at most once."""
        refs: list[str] = []
        for key in keys:
            ref = _normalise_ref(model, key)
            if ref in refs:
                raise InvalidArgument(f"{ref} is listed twice", "give each ref once")
            version = self.registry.resolve(ref)
            if version.status != VersionStatus.READY:
                raise InvalidState(
                    f"{ref} is {version.status.value.lower()}: it cannot take traffic",
                    f"route a READY version (gannet models show {model})",
                )
            refs.append(ref)
        return tuple(refs)


# -- rows and JSON ------------------------------------------------------------------------


def _state(row: Any) -> DeploymentState:
    name, model, revision, text, reason, user, time = row
    doc = json.loads(text)
    if doc.get("format") != STATE_FORMAT:
        raise InvalidState(
            f"revision {revision} of deployment {name!r} has state format {doc.get('format')!r}; "
            f"this Gannet reads format {STATE_FORMAT}",
            "upgrade gannet (pip install -U gannet)",
        )
    return DeploymentState(
        name=name,
        model=model,
        routes=tuple(Route(r["ref"], float(r["weight"])) for r in doc["routes"]),
        shadows=tuple(doc.get("shadows", ())),
        sticky_key=doc.get("sticky_key"),
        revision=revision,
        updated_time=time,
        updated_by=user,
        reason=reason,
        log_masked=tuple(doc.get("log_masked", ())),
        log_hashed=tuple(doc.get("log_hashed", ())),
    )


def _state_json(state: DeploymentState) -> str:
    return json.dumps(
        {
            "format": STATE_FORMAT,
            "routes": [{"ref": r.ref, "weight": r.weight} for r in state.routes],
            "shadows": list(state.shadows),
            "sticky_key": state.sticky_key,
            "log_masked": list(state.log_masked),
            "log_hashed": list(state.log_hashed),
        },
        sort_keys=True,
    )


def _insert_revision(conn: Connection, state: DeploymentState) -> None:
    conn.execute(
        deployment_revisions.insert().values(
            name=state.name,
            revision=state.revision,
            state=_state_json(state),
            reason=state.reason,
            user_id=state.updated_by,
            time=state.updated_time,
        )
    )


def _content(state: DeploymentState) -> tuple:
    return tuple(getattr(state, k) for k in _CONTENT)


def _summary(state: DeploymentState) -> dict[str, Any]:
    """The state as the audit log keeps it."""
    return {
        "routes": {r.ref: r.weight for r in state.routes},
        "shadows": list(state.shadows),
        "sticky_key": state.sticky_key,
        "log_masked": list(state.log_masked),
        "log_hashed": list(state.log_hashed),
    }


# -- checks ---------------------------------------------------------------------------------


def _normalise_ref(model: str, key: object) -> str:
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise InvalidArgument(f"cannot read {key!r} as a reference of {model!r}", _REF_HINT)
    text = str(key).strip()
    number = _VERSION.match(text)
    if number:
        if int(number.group(1)) < 1:
            raise InvalidArgument(f"versions start at 1, got {key!r}", _REF_HINT)
        return f"{model}/{int(number.group(1))}"
    if text.startswith("@"):
        text = model + text
    if "/" not in text and "@" not in text:
        raise InvalidArgument(f"cannot read {key!r} as a reference of {model!r}", _REF_HINT)
    ref = parse_ref(text)
    if ref.name != model:
        raise InvalidArgument(
            f"{key!r} refers to model {ref.name!r}, but the deployment serves {model!r}",
            f"a deployment routes versions of its own model only, e.g. {model}/3 or @champion",
        )
    return str(ref)


def _weight(ref: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"the weight of {ref} must be a number, got {value!r}", "e.g. 90")
    weight = float(value)
    if not math.isfinite(weight) or weight <= 0:
        raise InvalidArgument(
            f"the weight of {ref} must be a finite number > 0, got {value!r}",
            "weights are relative shares (90 and 10 make 90% and 10%); "
            "leave a ref out instead of giving it 0",
        )
    return weight


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid deployment name {name!r}",
            "start with a letter or digit; use letters, digits, '_', '-', '.' (up to 256)",
        )
    return name


def _check_sticky(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not isinstance(key, str) or not _STICKY.match(key):
        raise InvalidArgument(
            f"invalid sticky key {key!r}",
            "name a request header or JSON field, e.g. user_id or X-User-Id",
        )
    return key


def _columns(values: Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    found: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 250:
            raise InvalidArgument(
                f"{what} log fields must be column names, got {value!r}", "e.g. email"
            )
        if value not in found:
            found.append(value)
    return tuple(found)


def _target(name: str) -> str:
    return f"deployment:{name}"


def _not_found(name: str) -> NotFound:
    return NotFound(f"no deployment named {name!r}", "list them: gannet deployments list")


def _exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"deployment {name!r} already exists",
        f"change its traffic (gannet deployments set-traffic {name} ...) or pick another name",
    )


def _conflict(name: str) -> Conflict:
    return Conflict(
        f"deployment {name!r} was changed by someone else at the same time",
        f"look at it again (gannet deployments show {name}) and retry",
    )
