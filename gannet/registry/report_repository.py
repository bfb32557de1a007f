"""The SQL of a version's responsible-AI reports (``tables.model_version_reports``)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.registry.tables import model_version_reports as reports
from gannet.registry.types import VersionReport


def replace_report(conn: Connection, row: dict[str, Any]) -> None:
    """Store ``row`` as the version's report of its kind (an earlier one is replaced)."""
    conn.execute(reports.delete().where(
        reports.c.name == row["name"], reports.c.version == row["version"],
        reports.c.kind == row["kind"]))
    conn.execute(reports.insert().values(**row))


def version_reports(conn: Connection, name: str, version: int) -> dict[str, VersionReport]:
    """The version's reports by kind."""
    rows = conn.execute(sa.select(reports).where(
        reports.c.name == name, reports.c.version == version)).mappings()
    return {r["kind"]: _report(r) for r in rows}


def plot_digests(conn: Connection, since: int | None = None) -> set[str]:
    """The blobs of the plots of every report (made at or after ``since``)."""
    query = sa.select(reports.c.plot_digests)
    if since is not None:
        query = query.where(reports.c.creation_time >= since)
    found: set[str] = set()
    for text in conn.execute(query).scalars():
        found.update(json.loads(text).values())
    return found


def _report(row: Any) -> VersionReport:
    return VersionReport(
        name=row["name"], version=row["version"], kind=row["kind"],
        report=json.loads(row["report"]), plots=json.loads(row["plot_digests"]),
        data_source=row["data_source"], user_id=row["user_id"],
        creation_time=row["creation_time"])
