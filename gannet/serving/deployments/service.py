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

``get_deployment_state(name)`` is what servers poll (``DeploymentSource``): one query
joining the deployment row to its current revision by primary keys.

The SQL is ``repository``'s; the checks that need no store are ``validation``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.auth.service import AuthService
from gannet.core.actor import EDITOR, READER, choose_project, require, visible_projects
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
from gannet.registry.types import VersionStatus
from gannet.serving.deployments import repository
from gannet.serving.deployments.audit import CONTENT as _CONTENT
from gannet.serving.deployments.audit import change_detail as _change_detail
from gannet.serving.deployments.audit import content as _content
from gannet.serving.deployments.audit import summary as _summary
from gannet.serving.deployments.errors import ErrorCounts
from gannet.serving.deployments.types import (
    DeploymentInfo,
    DeploymentState,
    Route,
    RouteSpec,
)
from gannet.serving.deployments.validation import (
    check_columns,
    check_features,
    check_name,
    check_sticky_key,
    check_weight,
    normalise_ref,
)
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["DeploymentService"]

# checks feature references against the registered feature views (NotFound naming the
# feature and close matches); given by the composition root
FeatureCheck = Callable[[Sequence[str]], object]


class DeploymentService:
    def __init__(
        self,
        metadata: MetadataStore,
        registry: RegistryService,
        auth: AuthService,
        settings: Settings,
        check_feature_refs: FeatureCheck | None = None,
    ) -> None:
        self.metadata = metadata
        self.registry = registry
        self.auth = auth
        self.settings = settings
        self.check_feature_refs = check_feature_refs

    # -- reading -------------------------------------------------------------------------

    def get_deployment_state(self, name: str) -> DeploymentState:
        """The deployment's state now: one query by primary keys (servers poll this)."""
        with self.metadata.read() as conn:
            state = repository.current_state(conn, name)
        if state is None:
            raise _not_found(name)
        require(state.project, READER, f"read deployment {name!r}", _not_found(name))
        return state

    def get_deployment(self, name: str) -> DeploymentInfo:
        """The current state, who created the deployment, and the version behind each ref."""
        with self.metadata.read() as conn:
            info = repository.deployment_info(conn, name)
        if info is None:
            raise _not_found(name)
        require(info.state.project, READER, f"read deployment {name!r}", _not_found(name))
        resolved: dict[str, int | None] = {}
        for ref in (*(r.ref for r in info.state.routes), *info.state.shadows):
            try:
                resolved[ref] = self.registry.resolve_model_version(ref).version
            except GannetError:
                resolved[ref] = None
        return replace(info, resolved=resolved)

    def get_deployment_errors(self, name: str) -> ErrorCounts | None:
        """The requests its inference servers answered with a 4xx or 5xx, per version (the
        ``ui_inference_servers`` setting lists them; None when it lists none)."""
        from gannet.serving.deployments.errors import error_counts, servers_of

        state = self.get_deployment_state(name)
        urls = servers_of(self.settings.ui_inference_servers).get(name)
        return error_counts(urls, state.model) if urls else None

    def list_deployments(self, model: str | None = None) -> list[DeploymentState]:
        """Every deployment's current state by name (only ``model``'s when given; only
        those the caller may see)."""
        with self.metadata.read() as conn:
            return repository.list_states(conn, model, visible_projects())

    def count_in_project(self, project: str) -> int:
        """How many deployments ``project`` owns."""
        with self.metadata.read() as conn:
            return repository.count_deployments(conn, project)

    def get_deployment_history(self, name: str) -> list[DeploymentState]:
        """Every revision of the deployment, newest first."""
        with self.metadata.read() as conn:
            states = repository.history(conn, name)
        if not states:
            raise _not_found(name)
        require(states[0].project, READER, f"read deployment {name!r}", _not_found(name))
        return states

    # -- changing ------------------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model: str,
        routes: RouteSpec | None = None,
        *,
        description: str = "",
        sticky_key: str | None = None,
        reason: str = "",
        project: str | None = None,
        features: Sequence[str] | None = None,
        on_unavailable: str = "error",
        feature_defaults: Mapping[str, Any] | None = None,
    ) -> DeploymentState:
        """A new deployment of ``model`` in ``project`` (else the ``project`` setting, else
        ``default``; needs the editor role there); ``routes`` default to
        ``model@champion`` (when that alias exists, else ``model@latest``) with all the
        traffic. ``features``: see ``set_deployment_features``."""
        check_name(name)
        wanted = self._features(features, on_unavailable, feature_defaults)
        owner = choose_project(project, self.settings.project)
        require(owner, EDITOR, f"create a deployment in project {owner!r}",
                NotFound(f"no project named {owner!r}", "list yours: gannet projects list"))
        registered = self.registry.get_registered_model(model)
        if routes is None:
            if registered.latest_version is None:
                raise InvalidState(
                    f"model {model!r} has no versions yet: there is nothing to deploy",
                    f"register one first: gannet models register RUN_ID {model}",
                )
            routes = {"@champion" if "champion" in registered.aliases else "@latest": 1}
        state = DeploymentState(
            name=name,
            model=model,
            routes=self._routes(model, routes),
            sticky_key=check_sticky_key(sticky_key),
            revision=1,
            updated_time=now_ms(),
            updated_by=self.auth.current_user,
            reason=reason,
            project=owner,
            features=wanted[0],
            features_on_unavailable=wanted[1],
            feature_defaults=wanted[2],
        )
        try:
            with self.metadata.write() as conn:
                if repository.deployment_exists(conn, name):
                    raise _exists(name)
                repository.insert_deployment(conn, state, description)
                self.auth.record(
                    conn,
                    "deployment.create",
                    _target(name),
                    {"model": model, "to": _summary(state), "reason": reason, "revision": 1},
                )
        except repository.Duplicate as exc:  # created by someone else at the same moment
            raise _exists(name) from exc
        return state

    def set_deployment_traffic(
        self, name: str, routes: RouteSpec, reason: str = ""
    ) -> DeploymentState:
        """Route the traffic by ``routes`` (ref or version -> relative weight > 0).

        A ref that now gets traffic stops being a shadow.
        """

        def change(current: DeploymentState) -> DeploymentState:
            new_routes = self._routes(current.model, routes)
            taken = {r.ref for r in new_routes}
            shadows = tuple(s for s in current.shadows if s not in taken)
            return replace(current, routes=new_routes, shadows=shadows)

        return self._change(name, "deployment.traffic", reason, change)

    def set_deployment_sticky_key(
        self, name: str, key: str | None, reason: str = ""
    ) -> DeploymentState:
        """Pin each caller to one route by ``key`` (a request header or JSON field); None
        routes every request afresh."""
        sticky = check_sticky_key(key)
        return self._change(
            name, "deployment.sticky", reason, lambda s: replace(s, sticky_key=sticky)
        )

    def set_deployment_shadows(
        self, name: str, refs: Sequence[str | int] | None, reason: str = ""
    ) -> DeploymentState:
        """Copy the traffic to ``refs`` too (answers are logged, never returned); None or
        an empty list stops shadowing. Replaces the previous shadows."""

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

    def set_deployment_log_fields(
        self,
        name: str,
        masked: Iterable[str] = (),
        hashed: Iterable[str] = (),
        reason: str = "",
    ) -> DeploymentState:
        """Input columns the inference log stores as ``***`` (masked) or as a salted hash
        (hashed, still joinable); replaces the previous lists."""
        masked_t, hashed_t = check_columns(masked, "masked"), check_columns(hashed, "hashed")
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

    def set_deployment_features(
        self,
        name: str,
        features: Sequence[str] | None,
        *,
        on_unavailable: str = "error",
        defaults: Mapping[str, Any] | None = None,
        reason: str = "",
    ) -> DeploymentState:
        """Features (``view:feature``) the inference server looks up by each request's
        entity keys and adds to its input before predict; replaces the previous ones (None
        or empty: none). When the online store is down a request is answered 503, or with
        ``defaults`` (feature name -> value) where ``on_unavailable`` is ``defaults``."""
        refs, mode, values = self._features(features, on_unavailable, defaults)
        return self._change(
            name,
            "deployment.features",
            reason,
            lambda s: replace(s, features=refs, features_on_unavailable=mode,
                              feature_defaults=values),
        )

    def _features(
        self, features: Sequence[str] | None, on_unavailable: str,
        defaults: Mapping[str, Any] | None,
    ) -> tuple[tuple[str, ...], str, tuple[tuple[str, Any], ...]]:
        checked = check_features(features, on_unavailable, defaults)
        if checked[0] and self.check_feature_refs is not None:
            self.check_feature_refs(checked[0])
        return checked

    def rollback_deployment(
        self, name: str, reason: str = "", *, to: int | None = None
    ) -> DeploymentState:
        """Make the revision before the current one (or revision ``to``) current again, as
        a new revision. Its refs must still resolve."""

        restored: dict[str, Any] = {}

        def change(current: DeploymentState) -> DeploymentState:
            target = current.revision - 1 if to is None else int(to)
            if current.revision == 1 and to is None:
                raise InvalidState(
                    f"deployment {name!r} has only one revision: nothing to roll back to",
                    f"see its history: gannet deployments history {name}",
                )
            if not 1 <= target < current.revision:
                raise InvalidArgument(
                    f"cannot roll {name!r} back to revision {target}: it is at revision "
                    f"{current.revision}",
                    f"give an earlier revision (gannet deployments history {name})",
                )
            old = self._revision(name, target)
            self._refs(current.model, [*(r.ref for r in old.routes), *old.shadows])
            restored["restored_revision"] = target
            return replace(current, **{k: getattr(old, k) for k in _CONTENT})

        return self._change(name, "deployment.rollback", reason, change, restored)

    def delete_deployment(self, name: str) -> None:
        """Remove the deployment and its history (the audit log keeps what happened)."""
        with self.metadata.write() as conn:
            current = self._lock(conn, name)
            _may_change(current, "delete")
            repository.delete_deployment(conn, name)
            self.auth.record(
                conn,
                "deployment.delete",
                _target(name),
                {"from": _summary(current), "revision": current.revision},
            )

    # -- the deployable bundle -------------------------------------------------------------

    def bundle_deployment(
        self,
        name: str,
        dest: str | Path,
        *,
        image: str | None = None,
        port: int = 8080,
        replicas: int = 2,
    ) -> list[Path]:
        """Write a Dockerfile, requirements and Kubernetes manifests that serve ``name``
        (see ``gannet.serving.deployments.bundle``); ``image`` defaults to
        ``python:X.Y-slim`` of the Python the served models were saved with."""
        from gannet.serving.deployments.bundle import bundle_deployment

        return bundle_deployment(
            self.registry,
            self.settings.trusted_keys,
            self.get_deployment_state(name),
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
                _may_change(current, "change")
                target = change(current)
                if _content(target) == _content(current):
                    return current
                new = replace(
                    target,
                    revision=current.revision + 1,
                    updated_time=now_ms(),
                    updated_by=self.auth.current_user,
                    reason=reason,
                )
                repository.insert_revision(conn, new)
                if not repository.move_current_revision(
                    conn, name, current.revision, new.revision, new.updated_time
                ):
                    raise _conflict(name)
                self.auth.record(
                    conn, action, _target(name), _change_detail(current, new, reason, extra)
                )
        except repository.Duplicate as exc:  # revision N+1 exists: written concurrently
            raise _conflict(name) from exc
        return new

    def _lock(self, conn: Connection, name: str) -> DeploymentState:
        """The current state, with the deployment row locked until the transaction ends."""
        if not repository.lock_deployment(conn, name):
            raise _not_found(name)
        state = repository.current_state(conn, name)
        if state is None:
            raise _conflict(name)
        return state

    def _revision(self, name: str, revision: int) -> DeploymentState:
        with self.metadata.read() as conn:
            state = repository.revision_state(conn, name, revision)
        if state is None:
            raise NotFound(
                f"deployment {name!r} has no revision {revision}",
                f"see its history: gannet deployments history {name}",
            )
        return state

    # -- validation that asks the registry ------------------------------------------------

    def _routes(self, model: str, routes: RouteSpec) -> tuple[Route, ...]:
        if not isinstance(routes, Mapping) or not routes:
            raise InvalidArgument(
                f"routes must map refs to weights, got {routes!r}",
                "e.g. {'churn/3': 90, 'churn/4': 10}",
            )
        refs = self._refs(model, list(routes))
        return tuple(
            Route(ref, check_weight(ref, weight))
            for ref, weight in zip(refs, routes.values(), strict=True)
        )

    def _refs(self, model: str, keys: Iterable[str | int]) -> tuple[str, ...]:
        """Normalised refs of ``model`` (``churn/3``, ``churn@champion``) that resolve now
        to READY versions; each at most once."""
        refs: list[str] = []
        for key in keys:
            ref = normalise_ref(model, key)
            if ref in refs:
                raise InvalidArgument(f"{ref} is listed twice", "give each ref once")
            version = self.registry.resolve_model_version(ref)
            if version.status != VersionStatus.READY:
                raise InvalidState(
                    f"{ref} is {version.status.value.lower()}: it cannot take traffic",
                    f"route a READY version (gannet models show {model})",
                )
            refs.append(ref)
        return tuple(refs)


def _target(name: str) -> str:
    return f"deployment:{name}"


def _may_change(state: DeploymentState, what: str) -> None:
    """Changing a deployment needs the editor role in its project."""
    require(state.project, EDITOR, f"{what} deployment {state.name!r}", _not_found(state.name))


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
