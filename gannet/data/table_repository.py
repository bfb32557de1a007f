"""SQL over the table files inside versions (DuckDB): their column names, and what changed

Computed by DuckDB over the files (Parquet, CSV, Arrow IPC), never by a Python loop over
rows: schema changes always, row counts always, and with a key the rows added, removed
and changed (a row is changed when a column both versions have differs, NULLs equal).
"""

from __future__ import annotations

from typing import Any

from gannet.core.errors import InvalidArgument

PARQUET = (".parquet", ".pq")
CSV = (".csv", ".tsv")
ARROW = (".arrow", ".feather", ".ipc")
SAMPLE = 5  # keys shown per kind of row change


def is_table(path: str) -> bool:
    return path.lower().endswith(PARQUET + CSV + ARROW)


def columns_of(path: str) -> list[str]:
    """Column names of a table file, read from its header or footer only."""
    lower = path.lower()
    try:
        if lower.endswith(PARQUET):
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if lower.endswith(ARROW):
            import pyarrow.ipc as ipc

            with ipc.open_file(path) as reader:
                return list(reader.schema.names)
        return [name for name, _ in _relation_schema(path)]
    except Exception:  # a file named .csv that is not one: it has no columns to record
        return []


def diff_tables(old: str, new: str, key: list[str] | None, label: str) -> dict[str, Any]:
    """Schema and row changes from the table file ``old`` to ``new``."""
    import duckdb

    con = duckdb.connect()
    try:
        _view(con, "a", old)
        _view(con, "b", new)
        before = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE a)").fetchall())
        after = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE b)").fetchall())
        result: dict[str, Any] = {
            "path": label,
            "columns_added": [c for c in after if c not in before],
            "columns_removed": [c for c in before if c not in after],
            "types_changed": {c: [before[c], after[c]] for c in before
                              if c in after and before[c] != after[c]},
            "rows_before": con.execute("SELECT count(*) FROM a").fetchone()[0],  # type: ignore[index]
            "rows_after": con.execute("SELECT count(*) FROM b").fetchone()[0],  # type: ignore[index]
        }
        if key:
            result.update(_row_changes(con, key, before, after))
        return result
    except duckdb.Error as exc:
        raise InvalidArgument(f"cannot compare the tables {label}: {exc}",
                              "check that both versions hold readable tables") from exc
    finally:
        con.close()


def _row_changes(
    con: Any, key: list[str], before: dict[str, str], after: dict[str, str]
) -> dict[str, Any]:
    for column in key:
        if column not in before or column not in after:
            real = sorted(before) if column not in before else sorted(after)
            raise InvalidArgument(
                f"the key column {column!r} is not in both tables",
                f"name a column both versions have; this one has: {', '.join(real)}",
            )
    keys = ", ".join(_q(c) for c in key)
    join = " AND ".join(f"a.{_q(c)} = b.{_q(c)}" for c in key)
    others = [c for c in before if c in after and c not in key]
    differs = " OR ".join(
        f"CAST(a.{_q(c)} AS VARCHAR) IS DISTINCT FROM CAST(b.{_q(c)} AS VARCHAR)"
        if before[c] != after[c] else f"a.{_q(c)} IS DISTINCT FROM b.{_q(c)}"
        for c in others
    ) or "FALSE"
    queries = {
        "added": f"FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE {join})",
        "removed": f"FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE {join})",
        "changed": f"FROM a JOIN b ON {join} WHERE {differs}",
    }
    found: dict[str, Any] = {"key": key}
    for kind, rest in queries.items():
        found[f"rows_{kind}"] = con.execute(f"SELECT count(*) {rest}").fetchone()[0]
        side = "b" if kind == "added" else "a"
        picked = ", ".join(f"{side}.{_q(c)}" for c in key)
        sample = con.execute(f"SELECT {picked} {rest} ORDER BY {picked} LIMIT {SAMPLE}")
        found[f"sample_{kind}"] = [row[0] if len(key) == 1 else list(row)
                                   for row in sample.fetchall()]
    dup = con.execute(
        f"SELECT count(*) FROM (SELECT {keys} FROM b GROUP BY {keys} HAVING count(*) > 1)"
    ).fetchone()[0]
    found["duplicate_keys_after"] = dup
    return found


def _view(con: Any, name: str, path: str) -> None:
    lower = path.lower()
    if lower.endswith(PARQUET):
        con.read_parquet(path).create_view(name)
    elif lower.endswith(ARROW):
        import pyarrow.feather as feather

        con.register(name, feather.read_table(path, memory_map=True))
    else:
        con.read_csv(path).create_view(name)


def _relation_schema(path: str) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect()
    try:
        relation = con.read_csv(path)
        return list(zip(relation.columns, [str(t) for t in relation.types], strict=True))
    except duckdb.Error as exc:
        raise InvalidArgument(f"cannot read the CSV file {path}: {exc}",
                              "check that it is CSV (a header line, one delimiter)") from exc
    finally:
        con.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
