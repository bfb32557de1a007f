"""Registry use cases: registered models, versions, aliases, signing, gates, loading.

Every change that matters to production writes an audit entry in the same transaction.
A version becomes visible only when all of it exists: its package bytes are stored and
signed before the one transaction that inserts its row. Deleting a version leaves a
tombstone, so its number is never given to another model (a deployment that routed
``churn/3`` can never silently serve something else).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from gannet.auth.service import AuthService
from gannet.core.actor import (
    EDITOR,
    OWNER,
    READER,
    choose_project,
    current_actor,
    require,
    visible_projects,
)
from gannet.core.clock import now_ms
from gannet.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from gannet.core.ids import is_id
from gannet.core.settings import Settings
from gannet.models.manifest import ModelMeta
from gannet.models.reference import ModelRef, check_model_name, parse_ref
from gannet.registry import (
    cards,
    gates,
    packages,
    project_repository,
    report_repository,
    repository,
)
from gannet.registry.access import model_not_found
from gannet.registry.browsing import BrowsingUseCases
from gannet.registry.gc import PackageReferences
from gannet.registry.loading import LoadingUseCases
from gannet.registry.promotion import PromotionUseCases
from gannet.registry.signing import KeyRing
from gannet.registry.tables import model_version_tags, registered_model_tags
from gannet.registry.transfer import PackageTransfer
from gannet.registry.types import (
    CardInputs,
    ModelVersion,
    RegisteredModel,
    StoredPackage,
    VersionStatus,
)
from gannet.store.blobs import BlobStore
from gannet.store.gc import BlobLeases
from gannet.store.metadata import MetadataStore
from gannet.tracking.service import TrackingService

CARD_FIELDS = ("intended_use", "limitations", "ethical_considerations", "training_data")


class RegistryService(PromotionUseCases, PackageReferences, LoadingUseCases, PackageTransfer,
                      BrowsingUseCases):
    """Registered models, versions and cards; aliases, approvals and promotion come from
    ``PromotionUseCases``, signing keys and verified loading from ``LoadingUseCases``, what
    garbage collection needs of packages from ``PackageReferences``, a package's upload
    and download by remote clients from ``PackageTransfer``, searches in MLflow's
    languages and a version's files from ``BrowsingUseCases``. On a team server each use
    case checks the caller's role in the model's project (``registry.access``)."""

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
        self.keys = KeyRing(settings.signing_key, settings.trusted_keys)
        self.leases = BlobLeases(metadata)
        # "NAME/VERSION" -> the dataset versions its run used (the data capability's
        # lineage, given by the composition root): what a model card lists as its data
        self.datasets_of: Callable[[str], list[dict[str, Any]]] | None = None

    # -- registered models -------------------------------------------------------------

    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None, *,
        project: str | None = None,
    ) -> RegisteredModel:
        """A new registered model in ``project`` (else the ``project`` setting, else
        ``default``; needs the editor role there)."""
        check_model_name(name)
        owner = self._new_model_project(project)
        with self.metadata.write() as conn:  # the insert is atomic: one of two racers wins
            if not repository.insert_model(conn, name, description, now_ms(), owner):
                raise AlreadyExists(
                    f"model {name!r} already exists", "register a new version instead"
                )
            repository.set_tags(conn, registered_model_tags, {"name": name}, _tags(tags))
            self.auth.record(conn, "model.create", f"model:{name}")
        return self.get_registered_model(name)

    def _new_model_project(self, project: str | None) -> str:
        owner = choose_project(project, self.settings.project)
        require(owner, EDITOR, f"register a model in project {owner!r}",
                NotFound(f"no project named {owner!r}", "list yours: gannet projects list"))
        return owner

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.metadata.read() as conn:
            found = repository.registered_model(conn, name)
        if found is None:
            raise model_not_found(name)
        require(found.project, READER, f"read model {name!r}", model_not_found(name))
        return found

    def _models(self, name_like: str | None, name: str | None) -> list[RegisteredModel]:
        """Registered models the caller may see, by name (``BrowsingUseCases`` searches)."""
        with self.metadata.read() as conn:
            return repository.registered_models_like(conn, name_like, name=name,
                                                     projects=visible_projects())

    def update_registered_model(
        self, name: str, *, description: str | None = None,
        tags: Mapping[str, str] | None = None, delete_tags: Sequence[str] = (),
    ) -> RegisteredModel:
        """Set the description, set ``tags``, remove the tags named in ``delete_tags``."""
        self._may_model(name, EDITOR, "edit")
        self.get_registered_model(name)
        values: dict[str, Any] = {"last_update_time": now_ms()}
        if description is not None:
            values["description"] = description
        with self.metadata.write() as conn:
            repository.update_model(conn, name, **values)
            repository.set_tags(conn, registered_model_tags, {"name": name}, _tags(tags))
            repository.delete_tags(conn, registered_model_tags, {"name": name}, delete_tags)
        return self.get_registered_model(name)

    def set_model_policy(self, name: str, policy_yaml: str | None) -> None:
        """Store the promotion gates of a model (validated first); None removes them."""
        if policy_yaml is not None:
            gates.Policy.from_yaml(policy_yaml)
        self._may_model(name, EDITOR, "set the policy of")
        self.get_registered_model(name)
        with self.metadata.write() as conn:
            repository.update_model(conn, name, policy=policy_yaml, last_update_time=now_ms())
            self.auth.record(conn, "model.policy", f"model:{name}", {"policy": policy_yaml})

    def delete_registered_model(self, name: str) -> None:
        """Remove the model and all its versions (their packages wait for ``gannet gc``)."""
        self._may_model(name, OWNER, "delete")
        self.get_registered_model(name)
        with self.metadata.write() as conn:
            released = repository.delete_model(conn, name, now_ms())
            self.auth.record(conn, "model.delete", f"model:{name}", {"packages": released})

    # -- versions ------------------------------------------------------------------------

    def log_model(
        self,
        run_id: str,
        model: Any,
        name: str = "model",
        *,
        signature: Any = None,
        input_example: Any = None,
        requirements: Sequence[str] | None = None,
    ) -> ModelMeta:
        """Save ``model`` as a package and log it under ``name`` in the run's artifacts."""
        self.tracking.check_run_active(run_id)
        return packages.log_to_run(self.tracking, run_id, model, name, signature=signature,
                                   input_example=input_example, requirements=requirements)

    def register_model(
        self,
        source: str | os.PathLike[str],
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
        source_uri: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` from a run's model or a package folder; a new model
        is made in ``project`` (else the ``project`` setting, else ``default``).

        ``source``: a run id (its ``model`` artifact), ``runs:/<run id>/<path>``, or the
        path of a package folder. ``source_uri`` is what the version records as its source
        instead (a package made from another tool's model, in a folder that goes away).
        """
        check_model_name(name)
        home = self._version_project(name, project)
        with self.leases.hold():  # the package's blobs are referenced before the lease ends
            return self._register(self._store_source(source), name, description, tags, home,
                                  source_uri)

    def _version_project(self, name: str, project: str | None) -> str:
        """The project a new version of ``name`` goes to: its model's, which the caller
        must edit, or for a new model ``project``'s (``_new_model_project``)."""
        with self.metadata.read() as conn:
            existing = project_repository.model_project(conn, name)
        if existing is None:
            return self._new_model_project(project)
        require(existing, EDITOR, f"register a version of model {name!r}",
                model_not_found(name))
        return existing

    def _register(
        self,
        found: tuple[StoredPackage, str | None, str],
        name: str,
        description: str,
        tags: Mapping[str, str] | None,
        project: str,
        source_uri: str | None = None,
    ) -> ModelVersion:
        """Sign and insert a version of a stored package: (package, run id, source)."""
        stored, run_id, where = found
        where = source_uri or where
        run = self.tracking.get_run(run_id) if run_id else None
        signed = self.keys.sign(stored.manifest_digest)
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
            "user_id": self.auth.current_user if current_actor() else self.settings.user,
            "creation_time": now,
            "last_update_time": now,
        }

        def insert(conn: Connection) -> int:  # run again on a serialisation failure
            version = repository.insert_version(conn, name, row, project)
            repository.set_tags(
                conn, model_version_tags, {"name": name, "version": version}, _tags(tags)
            )
            self.auth.record(
                conn,
                "version.create",
                f"model:{name}/{version}",
                {"source": where, "package": stored.package_digest, "signed_by": signed.key_id},
            )
            return version

        return self.get_model_version(name, self.metadata.transaction(insert))

    def _store_source(
        self, source: str | os.PathLike[str]
    ) -> tuple[StoredPackage, str | None, str]:
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
        linked = stored.meta.run_id
        if linked is not None and not self._run_exists(linked):
            linked = None  # made elsewhere (e.g. an MLflow run): no lineage here to link
        return stored, linked, str(folder.resolve())

    def _run_exists(self, run_id: str) -> bool:
        try:
            self.tracking.get_run(run_id)
        except NotFound:
            return False
        return True

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        self._may_model(name, READER, "read")
        with self.metadata.read() as conn:
            found = repository.versions(conn, name, int(version))
        if not found:
            self.get_registered_model(name)
            raise NotFound(
                f"model {name!r} has no version {version}", f"list them: gannet models show {name}"
            )
        return found[0]

    def _versions(self, name: str) -> list[ModelVersion]:
        """The versions of ``name`` (which the caller may see), newest first (deleted ones
        are gone)."""
        with self.metadata.read() as conn:
            return repository.versions(conn, name)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.resolve_model_version(ModelRef(check_model_name(name), alias=alias))

    def resolve_model_version(self, ref: str | ModelRef) -> ModelVersion:
        """``churn/3``, ``churn@champion``, ``churn@latest`` -> that version."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.version is not None:
            return self.get_model_version(parsed.name, parsed.version)
        with self.metadata.read() as conn:
            if parsed.alias == "latest":
                version = repository.latest_ready_version(conn, parsed.name)
            else:
                version = repository.alias_version(conn, parsed.name, parsed.alias or "")
        if version is None:
            model = self.get_registered_model(parsed.name)
            known = ", ".join(sorted(model.aliases)) or "none"
            raise NotFound(
                f"model {parsed.name!r} has no version at {parsed.alias!r} (aliases: {known})",
                f"set it: gannet models set-alias {parsed.name} {parsed.alias} <version>",
            )
        return self.get_model_version(parsed.name, version)

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, str] | None = None,
        delete_tags: Sequence[str] = (),
    ) -> ModelVersion:
        """Edit what may change after registration: description, tags (set ``tags``, remove
        those named in ``delete_tags``), the card's fields."""
        self._may_model(name, EDITOR, "edit a version of")
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
            repository.update_version(conn, name, version, **values)
            keys = {"name": name, "version": version}
            repository.set_tags(conn, model_version_tags, keys, _tags(tags))
            repository.delete_tags(conn, model_version_tags, keys, delete_tags)
        return self.get_model_version(name, version)

    def archive_model_version(self, name: str, version: int) -> ModelVersion:
        self._may_model(name, EDITOR, "archive a version of")
        current = self.get_model_version(name, version)
        self._refuse_if_aliased(current, "archive")
        with self.metadata.write() as conn:
            repository.update_version(
                conn, name, version, status=VersionStatus.ARCHIVED, last_update_time=now_ms()
            )
            self.auth.record(conn, "version.archive", f"model:{name}/{version}")
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int) -> None:
        """Delete a version: it disappears, its number is never reused, and its package
        waits for ``gannet gc``."""
        self._may_model(name, OWNER, "delete a version of")
        current = self.get_model_version(name, version)
        self._refuse_if_aliased(current, "delete")
        with self.metadata.write() as conn:
            repository.tombstone_version(conn, name, version, now_ms())
            self.auth.record(conn, "version.delete", f"model:{name}/{version}")

    @staticmethod
    def _refuse_if_aliased(version: ModelVersion, action: str) -> None:
        if version.aliases:
            held = ", ".join(f"{version.name}@{a}" for a in version.aliases)
            raise InvalidState(
                f"version {version.version} of {version.name!r} is {held}; cannot {action} it",
                "move or remove those aliases first (gannet models set-alias / delete-alias)",
            )

    # -- model cards -----------------------------------------------------------------------

    def get_model_card(self, name: str, version: int, fmt: str = "markdown") -> str:
        """The version's model card, as ``markdown`` or ``html``."""
        if fmt not in ("markdown", "html"):
            raise InvalidArgument(f"unknown card format {fmt!r}", "use markdown or html")
        v = self.get_model_version(name, version)
        run = self.tracking.get_run(v.run_id) if v.run_id else None
        promotions = [
            e
            for e in self.auth.entries_for(f"model:{name}@", limit=1000)
            if e.action == "alias.promote" and e.detail.get("to") == v.version
        ]
        with self.metadata.read() as conn:
            reports = report_repository.version_reports(conn, name, v.version)
        inputs = CardInputs(
            model=self.get_registered_model(name),
            version=v,
            params=run.data.params if run else {},
            validation=run.data.tags.get("gannet.validation") if run else None,
            promotions=promotions,
            reports=reports,
            datasets=self.datasets_of(v.ref) if self.datasets_of is not None else [],
        )
        return cards.render_markdown(inputs) if fmt == "markdown" else cards.render_html(inputs)


def _tags(values: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (values or {}).items()}


def _finite(metrics: Mapping[str, float]) -> dict[str, float | None]:
    return {
        k: (None if v != v or v in (float("inf"), float("-inf")) else v) for k, v in metrics.items()
    }
