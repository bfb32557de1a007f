"""Registry's SQL: rows in, plain types out. Every function takes an open connection."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.registry.tables import (
    deleted_packages,
    model_aliases,
    model_approvals,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from gannet.registry.types import Approval, ModelVersion, RegisteredModel, VersionStatus
from gannet.store.metadata import dialect


def registered_model(conn: Connection, name: str) -> RegisteredModel | None:
    found = registered_models_like(conn, name=name)
    return found[0] if found else None


def registered_models_like(
    conn: Connection, name_like: str | None = None, *, name: str | None = None,
    projects: frozenset[str] | None = None,
) -> list[RegisteredModel]:
    """Registered models by name; ``name_like`` is a SQL LIKE pattern, ``name`` exact,
    ``projects`` the projects that may own them."""
    stmt = sa.select(registered_models).order_by(registered_models.c.name)
    if projects is not None:
        stmt = stmt.where(registered_models.c.project.in_(sorted(projects)))
    if name_like is not None:
        stmt = stmt.where(registered_models.c.name.like(name_like))
    if name is not None:
        stmt = stmt.where(registered_models.c.name == name)
    rows = conn.execute(stmt).mappings().all()
    names = [r["name"] for r in rows]
    if not names:
        return []
    tags: dict[str, dict[str, str]] = {n: {} for n in names}
    for name, key, value in conn.execute(
        sa.select(registered_model_tags).where(registered_model_tags.c.name.in_(names))
    ):
        tags[name][key] = value
    aliases: dict[str, dict[str, int]] = {n: {} for n in names}
    for name, alias, version in conn.execute(
        sa.select(model_aliases.c.name, model_aliases.c.alias, model_aliases.c.version).where(
            model_aliases.c.name.in_(names)
        )
    ):
        aliases[name][alias] = version
    latest = dict(
        conn.execute(
            sa.select(model_versions.c.name, sa.func.max(model_versions.c.version))
            .where(model_versions.c.name.in_(names), _not_deleted())
            .group_by(model_versions.c.name)
        ).all()
    )
    return [
        RegisteredModel(
            name=r["name"],
            description=r["description"],
            creation_time=r["creation_time"],
            last_update_time=r["last_update_time"],
            tags=tags[r["name"]],
            aliases=aliases[r["name"]],
            latest_version=latest.get(r["name"]),
            policy=r["policy"],
            project=r["project"],
        )
        for r in rows
    ]


def versions(
    conn: Connection, name: str, version: int | None = None, *, newest_first: bool = True
) -> list[ModelVersion]:
    stmt = sa.select(model_versions).where(model_versions.c.name == name, _not_deleted())
    if version is not None:
        stmt = stmt.where(model_versions.c.version == version)
    order = model_versions.c.version.desc() if newest_first else model_versions.c.version
    rows = conn.execute(stmt.order_by(order)).mappings().all()
    if not rows:
        return []
    wanted = [r["version"] for r in rows]
    tags: dict[int, dict[str, str]] = {v: {} for v in wanted}
    for v, key, value in conn.execute(
        sa.select(
            model_version_tags.c.version, model_version_tags.c.key, model_version_tags.c.value
        ).where(model_version_tags.c.name == name, model_version_tags.c.version.in_(wanted))
    ):
        tags[v][key] = value
    aliases: dict[int, list[str]] = {v: [] for v in wanted}
    for alias, v in conn.execute(
        sa.select(model_aliases.c.alias, model_aliases.c.version).where(
            model_aliases.c.name == name, model_aliases.c.version.in_(wanted)
        )
    ):
        aliases[v].append(alias)
    return [_version(r, tags[r["version"]], tuple(sorted(aliases[r["version"]]))) for r in rows]


def _not_deleted() -> sa.ColumnElement[bool]:
    return model_versions.c.status.in_(VersionStatus.live())


def _version(r: sa.RowMapping, tags: dict[str, str], aliases: tuple[str, ...]) -> ModelVersion:
    return ModelVersion(
        name=r["name"],
        version=r["version"],
        status=VersionStatus(r["status"]),
        description=r["description"],
        source=r["source"],
        run_id=r["run_id"],
        package_digest=r["package_digest"],
        manifest_digest=r["manifest_digest"],
        flavor=r["flavor"],
        signature=json.loads(r["signature"]) if r["signature"] else None,
        signing_key_id=r["signing_key_id"],
        package_signature=r["package_signature"],
        git_commit=r["git_commit"],
        metrics=json.loads(r["metrics"]),
        card=json.loads(r["card"]),
        user_id=r["user_id"],
        creation_time=r["creation_time"],
        last_update_time=r["last_update_time"],
        tags=tags,
        aliases=aliases,
    )


def alias_version(conn: Connection, name: str, alias: str) -> int | None:
    return conn.execute(
        sa.select(model_aliases.c.version).where(
            model_aliases.c.name == name, model_aliases.c.alias == alias
        )
    ).scalar()


def set_alias(conn: Connection, name: str, alias: str, version: int, user: str, now: int) -> None:
    stmt = dialect.insert(conn, model_aliases)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["name", "alias"],
            set_={
                "version": stmt.excluded.version,
                "updated_by": stmt.excluded.updated_by,
                "updated_time": stmt.excluded.updated_time,
            },
        ).values(name=name, alias=alias, version=version, updated_by=user, updated_time=now)
    )


def set_tags(
    conn: Connection, table: sa.Table, keys: dict[str, object], values: dict[str, str]
) -> None:
    """Upsert tags of a model (keys: name) or a version (keys: name, version)."""
    if not values:
        return
    stmt = dialect.insert(conn, table)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[*keys, "key"], set_={"value": stmt.excluded.value}
        ),
        [{**keys, "key": k, "value": v} for k, v in values.items()],
    )


def approvals(conn: Connection, name: str, version: int) -> list[Approval]:
    rows = conn.execute(
        sa.select(model_approvals).where(
            model_approvals.c.name == name, model_approvals.c.version == version
        )
    ).mappings()
    return [
        Approval(r["user_id"], tuple(filter(None, r["roles"].split(","))), r["comment"], r["time"])
        for r in rows
    ]


# -- writes --------------------------------------------------------------------------------


def insert_model(
    conn: Connection, name: str, description: str, now: int, project: str = "default"
) -> bool:
    """Insert a registered model unless the name is taken (False then): atomic, so of two
    processes creating one name at once exactly one inserts it (PostgreSQL makes the
    second wait for the first's commit; SQLite's writers queue anyway)."""
    stmt = dialect.insert(conn, registered_models).values(
        name=name, description=description, policy=None, creation_time=now,
        last_update_time=now, project=project,
    )
    inserted = stmt.on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return bool(conn.execute(inserted).rowcount == 1)


def lock_model(conn: Connection, name: str) -> bool:
    """Lock the model's row until the transaction ends (PostgreSQL; SQLite's writer lock
    already serialises); False when there is no such model."""
    found = conn.execute(
        sa.select(registered_models.c.name)
        .where(registered_models.c.name == name)
        .with_for_update()
    ).first()
    return found is not None


def update_model(conn: Connection, name: str, **values: Any) -> None:
    conn.execute(
        registered_models.update().where(registered_models.c.name == name).values(**values)
    )


def delete_model(conn: Connection, name: str, now: int) -> list[str]:
    """Remove the model and everything of it; its versions' packages are recorded in
    ``deleted_packages`` (for garbage collection's grace period) and returned."""
    packages = sorted(set(
        conn.execute(
            sa.select(model_versions.c.package_digest).where(
                model_versions.c.name == name,
                model_versions.c.status.in_((*VersionStatus.live(), VersionStatus.DELETED)),
            )
        ).scalars()
    ))
    if packages:
        conn.execute(
            deleted_packages.insert(),
            [{"package_digest": digest, "deleted_time": now} for digest in packages],
        )
    for table in (model_aliases, model_approvals, model_version_tags):
        conn.execute(table.delete().where(table.c.name == name))
    conn.execute(model_versions.delete().where(model_versions.c.name == name))
    conn.execute(registered_model_tags.delete().where(registered_model_tags.c.name == name))
    conn.execute(registered_models.delete().where(registered_models.c.name == name))
    return packages


def next_version(conn: Connection, name: str) -> int:
    """One more than any version the model ever had (deleted ones included: never reused)."""
    highest = conn.execute(
        sa.select(sa.func.max(model_versions.c.version)).where(model_versions.c.name == name)
    ).scalar()
    return (highest or 0) + 1


def insert_version(
    conn: Connection, name: str, row: dict[str, Any], project: str = "default"
) -> int:
    """Insert the next version of ``name`` (``row``: every column but the version) and
    return its number. The model is created when new (whoever creates it first, the others
    find it), and its row stays locked until the transaction ends, so concurrent
    registrations get distinct, consecutive numbers."""
    insert_model(conn, name, "", row["creation_time"], project)
    lock_model(conn, name)
    version = next_version(conn, name)
    conn.execute(model_versions.insert().values(**row, version=version))
    return version


def update_version(conn: Connection, name: str, version: int, **values: Any) -> None:
    conn.execute(
        model_versions.update()
        .where(model_versions.c.name == name, model_versions.c.version == version)
        .values(**values)
    )


def tombstone_version(conn: Connection, name: str, version: int, now: int) -> None:
    """Mark a version deleted (its number stays taken) and drop its tags and approvals."""
    for table in (model_approvals, model_version_tags):
        conn.execute(table.delete().where(table.c.name == name, table.c.version == version))
    update_version(conn, name, version, status=VersionStatus.DELETED, last_update_time=now)


def latest_ready_version(conn: Connection, name: str) -> int | None:
    return conn.execute(
        sa.select(sa.func.max(model_versions.c.version)).where(
            model_versions.c.name == name, model_versions.c.status == VersionStatus.READY
        )
    ).scalar()


def delete_alias(conn: Connection, name: str, alias: str) -> None:
    conn.execute(
        model_aliases.delete().where(model_aliases.c.name == name, model_aliases.c.alias == alias)
    )


def replace_approval(
    conn: Connection, name: str, version: int, user: str, roles: str, comment: str, now: int
) -> None:
    """The user's approval of the version (an earlier one by the same user is replaced)."""
    conn.execute(
        model_approvals.delete().where(
            model_approvals.c.name == name,
            model_approvals.c.version == version,
            model_approvals.c.user_id == user,
        )
    )
    conn.execute(
        model_approvals.insert().values(
            name=name, version=version, user_id=user, roles=roles, comment=comment, time=now
        )
    )


def kept_packages(conn: Connection, deleted_since: int) -> set[str]:
    """Package digests garbage collection keeps: live versions', and those deleted (as a
    version or with their model) at or after ``deleted_since``."""
    kept = sa.or_(
        model_versions.c.status.in_(VersionStatus.live()),
        sa.and_(
            model_versions.c.status == VersionStatus.DELETED,
            model_versions.c.last_update_time >= deleted_since,
        ),
    )
    found = set(conn.execute(sa.select(model_versions.c.package_digest).where(kept)).scalars())
    found.update(
        conn.execute(
            sa.select(deleted_packages.c.package_digest).where(
                deleted_packages.c.deleted_time >= deleted_since
            )
        ).scalars()
    )
    return found


def packages_since(conn: Connection, since: int) -> set[str]:
    """Package digests of live versions registered at or after ``since``."""
    return set(
        conn.execute(
            sa.select(model_versions.c.package_digest).where(
                model_versions.c.creation_time >= since, _not_deleted()
            )
        ).scalars()
    )


def purge_deleted(conn: Connection, before: int) -> int:
    """Release the packages deleted before ``before``: tombstones become PURGED, rows of
    deleted models' packages go. Returns how many versions' packages were released."""
    versions = conn.execute(
        model_versions.update()
        .where(
            model_versions.c.status == VersionStatus.DELETED,
            model_versions.c.last_update_time < before,
        )
        .values(status=VersionStatus.PURGED)
    ).rowcount
    models = conn.execute(
        deleted_packages.delete().where(deleted_packages.c.deleted_time < before)
    ).rowcount
    return int(versions or 0) + int(models or 0)


def count_deleted_before(conn: Connection, before: int) -> int:
    """What ``purge_deleted`` would release (for a dry run)."""
    versions = conn.execute(
        sa.select(sa.func.count()).select_from(model_versions).where(
            model_versions.c.status == VersionStatus.DELETED,
            model_versions.c.last_update_time < before,
        )
    ).scalar_one()
    models = conn.execute(
        sa.select(sa.func.count()).select_from(deleted_packages).where(
            deleted_packages.c.deleted_time < before
        )
    ).scalar_one()
    return int(versions) + int(models)
