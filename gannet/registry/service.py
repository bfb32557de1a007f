"""Registry use cases: registered models, versions, aliases, signing, gates, loading.

Every change that matters to production writes an audit entry in the same transaction.
A version becomes visible only when all of it exists: its package bytes are stored and
signed before the one transaction that inserts its row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gannet.auth.service import AuthService
from gannet.core.clock import now_ms
from gannet.core.errors import (
    AlreadyExists,
    IntegrityError,
    InvalidArgument,
    InvalidState,
    NotFound,
)
from gannet.core.ids import is_id
from gannet.core.settings import Settings
from gannet.models.package import LoadedModel, load_model
from gannet.registry import cards, gates, packages, repository, signing
from gannet.registry.tables import (
    model_aliases,
    model_approvals,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from gannet.registry.types import (
    ModelRef,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
    check_alias,
    check_model_name,
    parse_ref,
)
from gannet.store.blobs import BlobStore
from gannet.store.metadata import MetadataStore
from gannet.tracking.service import TrackingService

CARD_FIELDS = ("intended_use", "limitations", "ethical_considerations", "training_data")


@dataclass(frozen=True)
class Promotion:
    name: str
    version: int
    alias: str
    promoted: bool
    previous_version: int | None
    results: list[gates.GateResult]


class RegistryService:
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: BlobStore,
        tracking: TrackingService,
        auth: AuthService,
        settings: Settings,
    ) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.tracking = tracking
        self.auth = auth
        self.settings = settings

    # -- registered models -------------------------------------------------------------

    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        check_model_name(name)
        with self.metadata.write() as conn:
            if repository.registered_model(conn, name) is not None:
                raise AlreadyExists(
                    f"model {name!r} already exists", "register a new version instead"
                )
            self._insert_model(conn, name, description)
            repository.set_tags(conn, registered_model_tags, {"name": name}, _tags(tags))
            self.auth.record(conn, "model.create", f"model:{name}")
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.metadata.read() as conn:
            found = repository.registered_model(conn, name)
        if found is None:
            raise NotFound(f"no registered model named {name!r}", "list them: gannet models list")
        return found

    def list_registered_models(self, name_like: str | None = None) -> list[RegisteredModel]:
        where = registered_models.c.name.like(name_like) if name_like else None
        with self.metadata.read() as conn:
            return repository.list_registered_models(conn, where)

    def update_registered_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        self.get_registered_model(name)
        with self.metadata.write() as conn:
            values: dict[str, Any] = {"last_update_time": now_ms()}
            if description is not None:
                values["description"] = description
            conn.execute(
                registered_models.update().where(registered_models.c.name == name).values(**values)
            )
            repository.set_tags(conn, registered_model_tags, {"name": name}, _tags(tags))
        return self.get_registered_model(name)

    def set_policy(self, name: str, policy_yaml: str | None) -> None:
        """Store the promotion gates of a model (validated first); None removes them."""
        if policy_yaml is not None:
            gates.Policy.from_yaml(policy_yaml)
        self.get_registered_model(name)
        with self.metadata.write() as conn:
            conn.execute(
                registered_models.update()
                .where(registered_models.c.name == name)
                .values(policy=policy_yaml, last_update_time=now_ms())
            )
            self.auth.record(conn, "model.policy", f"model:{name}", {"policy": policy_yaml})

    def delete_registered_model(self, name: str) -> None:
        self.get_registered_model(name)
        with self.metadata.write() as conn:
            for table in (model_aliases, model_approvals, model_version_tags):
                conn.execute(table.delete().where(table.c.name == name))
            conn.execute(model_versions.delete().where(model_versions.c.name == name))
            conn.execute(registered_model_tags.delete().where(registered_model_tags.c.name == name))
            conn.execute(registered_models.delete().where(registered_models.c.name == name))
            self.auth.record(conn, "model.delete", f"model:{name}")

    # -- versions ------------------------------------------------------------------------

    def register_model(
        self,
        source: str | Path,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` (created if new) from a run's model or a package folder.

        ``source``: a run id (its ``model`` artifact), ``runs:/<run id>/<path>``, or the
        path of a package folder.
        """
        check_model_name(name)
        stored, run_id, where = self._store_source(source)
        run = self.tracking.get_run(run_id) if run_id else None
        signed = signing.sign(self._signing_key(), stored.manifest_digest)
        now = now_ms()
        row = {
            "name": name,
            "status": VersionStatus.READY,
            "description": description,
            "source": where,
            "run_id": run_id,
            "package_digest": stored.package_digest,
            "manifest_digest": stored.manifest_digest,
            "flavor": stored.meta.flavor,
            "signature": json.dumps(stored.meta.signature.to_dict())
            if stored.meta.signature
            else None,
            "signing_key_id": signed.key_id,
            "package_signature": signed.signature,
            "git_commit": run.info.git_commit if run else None,
            "metrics": json.dumps(_finite(run.data.metrics) if run else {}),
            "card": json.dumps({}),
            "user_id": self.settings.user,
            "creation_time": now,
            "last_update_time": now,
        }
        with self.metadata.write() as conn:
            model = conn.execute(
                sa.select(registered_models.c.name)
                .where(registered_models.c.name == name)
                .with_for_update()
            ).first()
            if model is None:
                self._insert_model(conn, name, "")
            version = (
                conn.execute(
                    sa.select(sa.func.max(model_versions.c.version)).where(
                        model_versions.c.name == name
                    )
                ).scalar()
                or 0
            ) + 1
            conn.execute(model_versions.insert().values(version=version, **row))
            repository.set_tags(
                conn, model_version_tags, {"name": name, "version": version}, _tags(tags)
            )
            self.auth.record(
                conn,
                "version.create",
                f"model:{name}/{version}",
                {"source": where, "package": stored.package_digest, "signed_by": signed.key_id},
            )
        return self.get_model_version(name, version)

    def _store_source(self, source: str | Path) -> tuple[packages.StoredPackage, str | None, str]:
        text = str(source)
        if text.startswith("runs:/") or is_id(text):
            run_id, _, path = text.removeprefix("runs:/").partition("/")
            path = path.strip("/") or "model"
            files = self.tracking.artifact_files(run_id, path)
            stored = packages.store_from_run_files(self.blobs, files, path, f"run {run_id}")
            return stored, run_id, f"runs:/{run_id}/{path}"
        folder = Path(source).expanduser()
        if not folder.exists():
            raise NotFound(
                f"{text!r} is neither a run id, a runs:/ URI nor an existing folder",
                "pass the run id that logged the model, or the path of a model package folder",
            )
        stored = packages.store_folder(self.blobs, folder)
        run_id = stored.meta.run_id
        if run_id is not None and not self._run_exists(run_id):
            run_id = None  # made elsewhere (e.g. an MLflow run): no lineage here to link
        return stored, run_id, str(folder.resolve())

    def _run_exists(self, run_id: str) -> bool:
        try:
            self.tracking.get_run(run_id)
        except NotFound:
            return False
        return True

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with self.metadata.read() as conn:
            found = repository.versions(conn, name, int(version))
        if not found:
            self.get_registered_model(name)
            raise NotFound(
                f"model {name!r} has no version {version}", f"list them: gannet models show {name}"
            )
        return found[0]

    def list_versions(self, name: str) -> list[ModelVersion]:
        self.get_registered_model(name)
        with self.metadata.read() as conn:
            return repository.versions(conn, name)

    def resolve(self, ref: str | ModelRef) -> ModelVersion:
        """``churn/3``, ``churn@champion``, ``churn@latest`` -> that version."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.version is not None:
            return self.get_model_version(parsed.name, parsed.version)
        with self.metadata.read() as conn:
            if parsed.alias == "latest":
                version = conn.execute(
                    sa.select(sa.func.max(model_versions.c.version)).where(
                        model_versions.c.name == parsed.name,
                        model_versions.c.status == VersionStatus.READY,
                    )
                ).scalar()
            else:
                version = repository.alias_version(conn, parsed.name, parsed.alias or "")
        if version is None:
            model = self.get_registered_model(parsed.name)
            known = ", ".join(sorted(model.aliases)) or "none"
            raise NotFound(
                f"model {parsed.name!r} has no version at {parsed.alias!r} (aliases: {known})",
                f"set it: gannet models alias {parsed.name} {parsed.alias} <version>",
            )
        return self.get_model_version(parsed.name, version)

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Edit what may change after registration: description, tags, the card's fields."""
        current = self.get_model_version(name, version)
        values: dict[str, Any] = {"last_update_time": now_ms()}
        if description is not None:
            values["description"] = description
        if card:
            unknown = set(card) - set(CARD_FIELDS)
            if unknown:
                raise InvalidArgument(
                    f"unknown model card field(s): {', '.join(sorted(unknown))}",
                    f"editable fields are: {', '.join(CARD_FIELDS)}",
                )
            values["card"] = json.dumps({**current.card, **card})
        with self.metadata.write() as conn:
            conn.execute(
                model_versions.update()
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(**values)
            )
            repository.set_tags(
                conn, model_version_tags, {"name": name, "version": version}, _tags(tags)
            )
        return self.get_model_version(name, version)

    def archive_version(self, name: str, version: int) -> ModelVersion:
        current = self.get_model_version(name, version)
        self._refuse_if_aliased(current, "archive")
        with self.metadata.write() as conn:
            conn.execute(
                model_versions.update()
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(status=VersionStatus.ARCHIVED, last_update_time=now_ms())
            )
            self.auth.record(conn, "version.archive", f"model:{name}/{version}")
        return self.get_model_version(name, version)

    def delete_version(self, name: str, version: int) -> None:
        current = self.get_model_version(name, version)
        self._refuse_if_aliased(current, "delete")
        with self.metadata.write() as conn:
            for table in (model_approvals, model_version_tags):
                conn.execute(table.delete().where(table.c.name == name, table.c.version == version))
            conn.execute(
                model_versions.delete().where(
                    model_versions.c.name == name, model_versions.c.version == version
                )
            )
            self.auth.record(conn, "version.delete", f"model:{name}/{version}")

    @staticmethod
    def _refuse_if_aliased(version: ModelVersion, action: str) -> None:
        if version.aliases:
            held = ", ".join(f"{version.name}@{a}" for a in version.aliases)
            raise InvalidState(
                f"version {version.version} of {version.name!r} is {held}; cannot {action} it",
                "move or remove those aliases first (gannet models alias / unalias)",
            )

    # -- aliases, approvals, promotion ------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (one atomic update; recorded in the audit log)."""
        check_alias(alias)
        target = self._version_of(name, version)
        if target.status != VersionStatus.READY:
            raise InvalidState(
                f"version {target.version} of {name!r} is {target.status.value.lower()}",
                "aliases point at READY versions only",
            )
        with self.metadata.write() as conn:
            previous = repository.alias_version(conn, name, alias)
            repository.set_alias(conn, name, alias, target.version, self.settings.user, now_ms())
            self.auth.record(
                conn, "alias.set", f"model:{name}@{alias}", {"from": previous, "to": target.version}
            )
        return self.get_model_version(name, target.version)

    def delete_alias(self, name: str, alias: str) -> None:
        with self.metadata.write() as conn:
            previous = repository.alias_version(conn, name, alias)
            if previous is None:
                raise NotFound(
                    f"model {name!r} has no alias {alias!r}", f"see: gannet models show {name}"
                )
            conn.execute(
                model_aliases.delete().where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            )
            self.auth.record(conn, "alias.delete", f"model:{name}@{alias}", {"from": previous})

    def approve(self, name: str, version: int, comment: str = "") -> None:
        """The current user approves a version (with the roles they hold now)."""
        self.get_model_version(name, version)
        user = self.settings.user
        with self.metadata.write() as conn:
            roles = ",".join(sorted(self.auth.roles_of(user, conn)))
            conn.execute(
                model_approvals.delete().where(
                    model_approvals.c.name == name,
                    model_approvals.c.version == version,
                    model_approvals.c.user_id == user,
                )
            )
            conn.execute(
                model_approvals.insert().values(
                    name=name,
                    version=version,
                    user_id=user,
                    roles=roles,
                    comment=comment,
                    time=now_ms(),
                )
            )
            self.auth.record(
                conn,
                "version.approve",
                f"model:{name}/{version}",
                {"roles": roles, "comment": comment},
            )

    def check_gates(self, name: str, version: int, alias: str) -> list[gates.GateResult]:
        candidate = self.get_model_version(name, version)
        model = self.get_registered_model(name)
        policy = gates.Policy.from_yaml(model.policy) if model.policy else gates.Policy({})
        current_version = model.aliases.get(alias)
        current = self.get_model_version(name, current_version) if current_version else None
        run_tags = self.tracking.get_run(candidate.run_id).data.tags if candidate.run_id else {}
        with self.metadata.read() as conn:
            approvals = repository.approvals(conn, name, version)
        evidence = gates.Evidence(candidate, current, run_tags, approvals)
        return gates.evaluate(policy.for_alias(alias), evidence)

    def promote(self, name: str, version: int, alias: str, reason: str = "") -> Promotion:
        """Move ``name@alias`` to ``version`` if every gate of the policy passes.

        A failed gate changes nothing. A pass moves the alias and records who, when, why
        and each gate's result in the audit log, in one transaction.
        """
        check_alias(alias)
        target = self._version_of(name, version)
        results = self.check_gates(name, target.version, alias)
        passed = all(r.passed for r in results)
        with self.metadata.write() as conn:
            previous = repository.alias_version(conn, name, alias)
            if passed:
                repository.set_alias(
                    conn, name, alias, target.version, self.settings.user, now_ms()
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
            return self.resolve(ref)
        if not text.isdigit():
            raise InvalidArgument(f"version must be a number, got {version!r}", "e.g. 3")
        return self.get_model_version(name, int(text))

    # -- model cards -----------------------------------------------------------------------

    def model_card(self, name: str, version: int, fmt: str = "markdown") -> str:
        """The version's model card, as ``markdown`` or ``html``."""
        if fmt not in ("markdown", "html"):
            raise InvalidArgument(f"unknown card format {fmt!r}", "use markdown or html")
        v = self.get_model_version(name, version)
        run = self.tracking.get_run(v.run_id) if v.run_id else None
        promotions = [
            e
            for e in self.auth.entries(f"model:{name}@", limit=1000)
            if e.action == "alias.promote" and e.detail.get("to") == v.version
        ]
        inputs = cards.CardInputs(
            model=self.get_registered_model(name),
            version=v,
            params=run.data.params if run else {},
            validation=run.data.tags.get("gannet.validation") if run else None,
            promotions=promotions,
        )
        return cards.render_markdown(inputs) if fmt == "markdown" else cards.render_html(inputs)

    # -- loading -------------------------------------------------------------------------

    def load(self, ref: str, *, allow_unsigned: bool | None = None) -> LoadedModel:
        """The model at ``ref``, verified: its signature by a trusted key, then every file."""
        version = self.resolve(ref)
        verified = self._verify_signature(version, allow_unsigned)
        folder = self.local_path(version)
        packages.check_cached(folder, version.manifest_digest)
        return load_model(folder, allow_pickle=verified, verify=False)

    def local_path(self, version: ModelVersion) -> Path:
        """The version's package in the local cache (fetched once)."""
        return packages.materialize(
            self.blobs, version.package_digest, self.settings.home / "cache" / "models"
        )

    def _verify_signature(self, version: ModelVersion, allow_unsigned: bool | None) -> bool:
        allow = self.settings.allow_unsigned if allow_unsigned is None else allow_unsigned
        try:
            if not version.signing_key_id or not version.package_signature:
                raise IntegrityError(
                    f"{version.ref} is not signed",
                    "re-register it, or load with allow_unsigned=True",
                )
            signing.verify(
                self.settings.trusted_keys,
                version.manifest_digest,
                signing.PackageSignature(version.signing_key_id, version.package_signature),
            )
            return True
        except IntegrityError:
            if allow:
                return False  # loads, but a pickle-serialised model still refuses
            raise

    def _signing_key(self) -> Path:
        """The configured signing key; a home without one gets one at first registration."""
        path = Path(self.settings.signing_key).expanduser()
        if not path.exists():
            trusted = Path(self.settings.trusted_keys.split(os.pathsep)[0]).expanduser()
            signing.create_key(path, trusted)
        return path

    def _insert_model(self, conn: sa.Connection, name: str, description: str) -> None:
        now = now_ms()
        conn.execute(
            registered_models.insert().values(
                name=name,
                description=description,
                policy=None,
                creation_time=now,
                last_update_time=now,
            )
        )


def _tags(values: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (values or {}).items()}


def _finite(metrics: Mapping[str, float]) -> dict[str, float | None]:
    return {
        k: (None if v != v or v in (float("inf"), float("-inf")) else v) for k, v in metrics.items()
    }
