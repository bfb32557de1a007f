"""Validation's SQL: stored reports in, records out. Every function takes an open
connection."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.data.validation.tables import data_validations


def insert_validation(
    conn: Connection,
    *,
    dataset: str,
    suite_digest: str,
    passed: bool,
    report: str,
    created_time: int,
    run_id: str | None,
) -> int:
    done = conn.execute(
        data_validations.insert()
        .values(dataset=dataset, suite_digest=suite_digest, passed=passed, report=report,
                created_time=created_time, run_id=run_id)
        .returning(data_validations.c.validation_id)
    )
    return int(done.scalar_one())


def validation_rows(
    conn: Connection, *, dataset: str | None, run_id: str | None, limit: int
) -> list[sa.RowMapping]:
    """Newest first."""
    stmt = sa.select(data_validations)
    if dataset is not None:
        stmt = stmt.where(data_validations.c.dataset == dataset)
    if run_id is not None:
        stmt = stmt.where(data_validations.c.run_id == run_id)
    stmt = stmt.order_by(data_validations.c.created_time.desc(),
                         data_validations.c.validation_id.desc()).limit(limit)
    return list(conn.execute(stmt).mappings())
