"""All of the data capability's SQL: rows in, types out. Every function takes a connection."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.data.tables import data_packed as p
from gannet.data.tables import dataset_tags as t
from gannet.data.tables import dataset_versions as v
from gannet.data.tables import datasets as d
from gannet.data.types import Dataset, DatasetVersion
from gannet.store.metadata import dialect

# -- datasets -------------------------------------------------------------------------------


def get_dataset(conn: Connection, name: str) -> Dataset | None:
    row = conn.execute(sa.select(d).where(d.c.name == name)).first()
    return None if row is None else _dataset(row)


def find_datasets(
    conn: Connection,
    text: str | None = None,
    *,
    owner: str | None = None,
    tag: str | None = None,
    column: str | None = None,
) -> list[Dataset]:
    """Datasets (by name) with their newest live version and live version count, filtered
    in the database: ``text`` in the name, owner, a keyword or a column name (any case),
    an exact ``owner``, a ``tag`` (a keyword or a version tag), a ``column`` name."""
    top = (
        sa.select(v.c.name, sa.func.max(v.c.version).label("top"), sa.func.count().label("n"))
        .where(v.c.deleted_time.is_(None)).group_by(v.c.name).subquery()
    )
    latest = v.alias("latest")
    query = (
        sa.select(d, top.c.n, *(c.label(f"v_{c.name}") for c in latest.c))
        .select_from(d.outerjoin(top, top.c.name == d.c.name).outerjoin(
            latest, sa.and_(latest.c.name == d.c.name, latest.c.version == top.c.top)))
        .order_by(d.c.name)
    )
    if text:
        pattern = f"%{_escaped(text.lower())}%"
        query = query.where(sa.or_(*(
            sa.func.lower(c).like(pattern, escape="\\")
            for c in (d.c.name, d.c.owner, d.c.keywords, latest.c.columns))))
    if owner is not None:
        query = query.where(d.c.owner == owner)
    if tag is not None:
        tagged = sa.select(t.c.name).where(t.c.tag == tag)
        query = query.where(sa.or_(
            d.c.keywords.like(f"%{_escaped(json.dumps(tag))}%", escape="\\"),
            d.c.name.in_(tagged)))
    if column is not None:
        quoted = _escaped(json.dumps(column.lower()))
        query = query.where(sa.func.lower(latest.c.columns).like(f"%{quoted}%", escape="\\"))
    return [_listed(row) for row in conn.execute(query)]


def _listed(row: sa.Row) -> Dataset:
    found = _dataset(row)
    values = {key[2:]: value for key, value in row._mapping.items()
              if isinstance(key, str) and key.startswith("v_")}
    if values["version"] is None:
        return found
    return replace(found, latest=_version(SimpleNamespace(**values), ()),
                   version_count=int(row.n))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def insert_dataset(conn: Connection, name: str, now: int) -> None:
    """Insert the dataset unless it exists, then lock its row until the transaction ends,
    so concurrent adds get distinct, consecutive version numbers (PostgreSQL waits for
    the first; SQLite's writers queue anyway)."""
    stmt = dialect.insert(conn, d).values(name=name, creation_time=now, last_update_time=now)
    conn.execute(stmt.on_conflict_do_nothing())
    conn.execute(sa.select(d.c.name).where(d.c.name == name).with_for_update())


def update_dataset(conn: Connection, name: str, now: int, **values: Any) -> None:
    encoded = {
        key: json.dumps(value, sort_keys=True) if key in ("keywords", "column_descriptions")
        else value
        for key, value in values.items()
    }
    conn.execute(d.update().where(d.c.name == name).values(last_update_time=now, **encoded))


def _dataset(row: sa.Row) -> Dataset:
    return Dataset(
        name=row.name, description=row.description, owner=row.owner,
        keywords=tuple(json.loads(row.keywords)),
        column_descriptions=dict(json.loads(row.column_descriptions)),
        creation_time=row.creation_time, last_update_time=row.last_update_time,
    )


# -- versions -------------------------------------------------------------------------------


def next_version(conn: Connection, name: str) -> int:
    """One more than any version ever made (deleted ones included: numbers are not reused)."""
    top = conn.execute(sa.select(sa.func.max(v.c.version)).where(v.c.name == name)).scalar()
    return int(top or 0) + 1


def insert_version(conn: Connection, version: DatasetVersion) -> None:
    conn.execute(v.insert().values(
        name=version.name, version=version.version, manifest_digest=version.manifest_digest,
        kind=version.kind, file_count=version.file_count, size=version.size,
        message=version.message, columns=json.dumps(list(version.columns)),
        source=version.source, creation_time=version.creation_time,
    ))


def get_version(conn: Connection, name: str, number: int) -> DatasetVersion | None:
    row = conn.execute(sa.select(v).where(v.c.name == name, v.c.version == number)).first()
    return None if row is None else _version(row, tags_of(conn, name).get(number, ()))


def latest_version(conn: Connection, name: str) -> DatasetVersion | None:
    row = conn.execute(
        sa.select(v).where(v.c.name == name, v.c.deleted_time.is_(None))
        .order_by(v.c.version.desc()).limit(1)
    ).first()
    return None if row is None else _version(row, tags_of(conn, name).get(row.version, ()))


def versions(conn: Connection, name: str, *, deleted: bool = False) -> list[DatasetVersion]:
    """The versions of ``name``, newest first (deleted ones only when asked)."""
    query = sa.select(v).where(v.c.name == name)
    if not deleted:
        query = query.where(v.c.deleted_time.is_(None))
    tags = tags_of(conn, name)
    rows = conn.execute(query.order_by(v.c.version.desc()))
    return [_version(row, tags.get(row.version, ())) for row in rows]


def mark_deleted(conn: Connection, name: str, number: int, now: int) -> None:
    conn.execute(v.update().where(v.c.name == name, v.c.version == number)
                 .values(deleted_time=now))
    conn.execute(t.delete().where(t.c.name == name, t.c.version == number))


def _version(row: Any, tags: tuple[str, ...]) -> DatasetVersion:
    return DatasetVersion(
        name=row.name, version=row.version, manifest_digest=row.manifest_digest,
        kind=row.kind, file_count=row.file_count, size=row.size, message=row.message,
        columns=tuple(json.loads(row.columns)), source=row.source,
        creation_time=row.creation_time, deleted_time=row.deleted_time, tags=tags,
    )


# -- tags -----------------------------------------------------------------------------------


def tags_of(conn: Connection, name: str) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for row in conn.execute(sa.select(t).where(t.c.name == name).order_by(t.c.tag)):
        found.setdefault(row.version, []).append(row.tag)
    return {number: tuple(tags) for number, tags in found.items()}


def tagged_version(conn: Connection, name: str, tag: str) -> int | None:
    found = conn.execute(
        sa.select(t.c.version).where(t.c.name == name, t.c.tag == tag)
    ).scalar()
    return None if found is None else int(found)


def set_tag(conn: Connection, name: str, tag: str, number: int) -> None:
    conn.execute(t.delete().where(t.c.name == name, t.c.tag == tag))
    conn.execute(t.insert().values(name=name, tag=tag, version=number))


def delete_tag(conn: Connection, name: str, tag: str) -> int:
    return int(conn.execute(t.delete().where(t.c.name == name, t.c.tag == tag)).rowcount or 0)


# -- garbage collection ---------------------------------------------------------------------


def count_deleted_before(conn: Connection, before: int) -> int:
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(v).where(*_purgeable(before))
    ).scalar_one())


def purge_deleted(conn: Connection, before: int) -> int:
    done = conn.execute(v.update().where(*_purgeable(before)).values(purged=1))
    return int(done.rowcount or 0)


def _purgeable(before: int) -> list[Any]:
    return [v.c.purged == 0, v.c.deleted_time.is_not(None), v.c.deleted_time < before]


def kept_manifests(conn: Connection, deleted_since: int) -> set[str]:
    """Manifests of live versions and of those deleted at or after ``deleted_since``."""
    rows = conn.execute(
        sa.select(v.c.manifest_digest).distinct().where(
            v.c.purged == 0,
            sa.or_(v.c.deleted_time.is_(None), v.c.deleted_time >= deleted_since),
        )
    )
    return {row.manifest_digest for row in rows}


def manifests_since(conn: Connection, since: int) -> set[str]:
    rows = conn.execute(
        sa.select(v.c.manifest_digest).distinct().where(v.c.creation_time >= since,
                                                        v.c.purged == 0)
    )
    return {row.manifest_digest for row in rows}


# -- packed files ---------------------------------------------------------------------------


def packed(conn: Connection, digests: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """(digest, pack, start, size) of each of ``digests`` that has a row."""
    found: list[tuple[str, str, int, int]] = []
    mark = dialect.marker(conn)
    for part in dialect.chunks(list(dict.fromkeys(digests))):
        # the driver's own SQL: compiling a new IN of hundreds of parameters for every run
        # of files cost SQLAlchemy more than the lookup cost the database
        rows = conn.exec_driver_sql(
            f"SELECT digest, pack, start, size FROM {p.name} WHERE digest IN "
            f"({', '.join([mark] * len(part))})", tuple(part))
        found.extend((digest, pack, int(start), int(size)) for digest, pack, start, size in rows)
    return found


def insert_packed(conn: Connection, rows: list[tuple[str, str, int, int]]) -> None:
    """Rows (digest, pack, start, size); a digest's row moves to the newer pack. The
    driver's own ``executemany``: one row per small file added, where SQLAlchemy's
    per-row parameter processing cost as much as the database."""
    mark = dialect.marker(conn)
    conn.exec_driver_sql(
        f"INSERT INTO {p.name} (digest, pack, start, size) VALUES ({mark}, {mark}, {mark}, "
        f"{mark}) ON CONFLICT (digest) DO UPDATE SET pack = excluded.pack, "
        "start = excluded.start, size = excluded.size", rows)


def all_packed(conn: Connection) -> Iterator[tuple[str, str]]:
    """(digest, pack) of every row, streamed."""
    query = sa.select(p.c.digest, p.c.pack).execution_options(yield_per=10_000)
    for row in conn.execute(query):
        yield row.digest, row.pack


def delete_packed_in(conn: Connection, packs: Sequence[str]) -> None:
    for part in dialect.chunks(list(packs)):
        conn.execute(sa.delete(p).where(p.c.pack.in_(part)))


def all_packed_rows(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(digest, pack, start, size) of every row."""
    query = sa.select(p.c.digest, p.c.pack, p.c.start, p.c.size)
    return [(r.digest, r.pack, int(r.start), int(r.size)) for r in conn.execute(query)]
