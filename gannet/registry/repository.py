"""Registry's SQL: rows in, plain types out. Every function takes an open connection."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.registry.tables import (
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
    found = list_registered_models(conn, registered_models.c.name == name)
    return found[0] if found else None


def list_registered_models(
    conn: Connection, where: sa.ColumnElement | None = None, limit: int | None = None
) -> list[RegisteredModel]:
    stmt = sa.select(registered_models).order_by(registered_models.c.name)
    if where is not None:
        stmt = stmt.where(where)
    if limit is not None:
        stmt = stmt.limit(limit)
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
            .where(model_versions.c.name.in_(names))
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
        )
        for r in rows
    ]


def versions(
    conn: Connection, name: str, version: int | None = None, *, newest_first: bool = True
) -> list[ModelVersion]:
    stmt = sa.select(model_versions).where(model_versions.c.name == name)
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
