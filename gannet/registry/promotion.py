"""Aliases, approvals and promotion through gates: how a version reaches production.

Moving an alias, approving and promoting need the ``editor`` role in the model's project
on a team server; each is recorded in the audit log in the transaction that makes it.
``RegistryService`` inherits these use cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gannet.core.actor import EDITOR
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, InvalidState, NotFound
from gannet.models.reference import ModelRef, check_alias, parse_ref
from gannet.registry import gates, report_repository, repository
from gannet.registry.access import ModelAccess
from gannet.registry.types import (
    Evidence,
    GateResult,
    ModelVersion,
    Promotion,
    RegisteredModel,
    VersionStatus,
)

if TYPE_CHECKING:
    from gannet.auth.service import AuthService
    from gannet.tracking.service import TrackingService


class PromotionUseCases(ModelAccess):
    """Needs ``metadata``, ``auth``, ``tracking`` and the registry's reads."""

    auth: AuthService
    tracking: TrackingService

    def get_registered_model(self, name: str) -> RegisteredModel:
        raise NotImplementedError

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        raise NotImplementedError

    def resolve_model_version(self, ref: str | ModelRef) -> ModelVersion:
        raise NotImplementedError

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str
    ) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (one atomic update; recorded in the audit log)."""
        check_alias(alias)
        self._may_model(name, EDITOR, "move an alias of")
        target = self._version_of(name, version)
        if target.status != VersionStatus.READY:
            raise InvalidState(
                f"version {target.version} of {name!r} is {target.status.value.lower()}",
                "aliases point at READY versions only",
            )
        with self.metadata.write() as conn:
            previous = repository.alias_version(conn, name, alias)
            repository.set_alias(
                conn, name, alias, target.version, self.auth.current_user, now_ms()
            )
            self.auth.record(
                conn, "alias.set", f"model:{name}@{alias}", {"from": previous, "to": target.version}
            )
        return self.get_model_version(name, target.version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._may_model(name, EDITOR, "remove an alias of")
        self.get_registered_model(name)
        with self.metadata.write() as conn:
            previous = repository.alias_version(conn, name, alias)
            if previous is None:
                raise NotFound(
                    f"model {name!r} has no alias {alias!r}", f"see: gannet models show {name}"
                )
            repository.delete_alias(conn, name, alias)
            self.auth.record(conn, "alias.delete", f"model:{name}@{alias}", {"from": previous})

    def approve_model_version(self, name: str, version: int, comment: str = "") -> None:
        """Who acts (the operating system's user, not the ``user`` setting) approves a
        version, with the roles they hold now."""
        self._may_model(name, EDITOR, "approve a version of")
        self.get_model_version(name, version)
        user = self.auth.current_user
        with self.metadata.write() as conn:
            roles = ",".join(sorted(self.auth.roles_of(user, conn)))
            repository.replace_approval(conn, name, version, user, roles, comment, now_ms())
            self.auth.record(
                conn,
                "version.approve",
                f"model:{name}/{version}",
                {"roles": roles, "comment": comment},
            )

    def check_promotion_gates(self, name: str, version: int, alias: str) -> list[GateResult]:
        """Each gate of the model's policy for ``alias``, evaluated for ``version`` now."""
        candidate = self.get_model_version(name, version)
        model = self.get_registered_model(name)
        policy = gates.Policy.from_yaml(model.policy) if model.policy else gates.Policy({})
        current_version = model.aliases.get(alias)
        current = self.get_model_version(name, current_version) if current_version else None
        run_tags = self.tracking.get_run(candidate.run_id).data.tags if candidate.run_id else {}
        with self.metadata.read() as conn:
            approvals = repository.approvals(conn, name, version)
            reports = report_repository.version_reports(conn, name, version)
        evidence = Evidence(candidate, current, run_tags, approvals, reports)
        return gates.evaluate(policy.for_alias(alias), evidence)

    def promote(self, name: str, version: int | str, alias: str, reason: str = "") -> Promotion:
        """Move ``name@alias`` to ``version`` if every gate of the policy passes.

        A failed gate changes nothing. A pass moves the alias and records who, when, why
        and each gate's result in the audit log, in one transaction.
        """
        check_alias(alias)
        self._may_model(name, EDITOR, "promote a version of")
        target = self._version_of(name, version)
        results = self.check_promotion_gates(name, target.version, alias)
        passed = all(r.passed for r in results)
        with self.metadata.write() as conn:
            previous = repository.alias_version(conn, name, alias)
            if passed:
                repository.set_alias(
                    conn, name, alias, target.version, self.auth.current_user, now_ms()
                )
                self.auth.record(
                    conn,
                    "alias.promote",
                    f"model:{name}@{alias}",
                    {
                        "from": previous,
                        "to": target.version,
                        "reason": reason,
                        "gates": [r.__dict__ for r in results],
                    },
                )
        return Promotion(name, target.version, alias, passed, previous, results)

    def _version_of(self, name: str, version: int | str) -> ModelVersion:
        text = str(version)
        if "/" in text or "@" in text:
            ref = parse_ref(text)
            if ref.name != name:
                raise InvalidArgument(
                    f"{text!r} is a version of model {ref.name!r}, not of {name!r}",
                    "an alias of a model can only point at one of its own versions",
                )
            return self.resolve_model_version(ref)
        if not text.isdigit():
            raise InvalidArgument(f"version must be a number, got {version!r}", "e.g. 3")
        return self.get_model_version(name, int(text))
