"""``RemoteFeatures``: ``FeatureStore``'s calls against a team server.

Definitions are read here (a YAML file, YAML text, or ``Entity``/``FeatureView`` objects)
and sent as data; the server registers them, reading only dataset versions as sources.
Online values come from the server's online store (``POST /api/v1/features/online``), one
request per call, as the same DataFrame (or columns) the embedded call returns; training
sets are built on the server from entity rows sent as Parquet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings
from gannet.features.definitions import Change
from gannet.features.online_store import entity_columns
from gannet.features.outputs import ROWS, check_output
from gannet.remote.transport import Transport

__all__ = ["RemoteFeatures"]

PREFIX = "/api/v1/features"
PARQUET = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class Materialized:
    """One view's materialization as the server reported it."""

    view: str
    rows: int
    reported: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.reported)


class RemoteFeatures:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    def apply(self, definitions: Any, *, dry_run: bool = False) -> list[Change]:
        done = self.transport.call("POST", f"{PREFIX}/apply", json={
            "definitions": _as_data(definitions), "dry_run": dry_run})
        return [Change(**c) for c in done["changes"]]

    def list_definitions(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "staleness_seconds"}
                for r in self._records()]

    def _records(self) -> list[dict[str, Any]]:
        return list(self.transport.call("GET", PREFIX)["definitions"])

    def staleness(self) -> dict[str, float | None]:
        return {r["name"]: r.get("staleness_seconds") for r in self._records()
                if r["kind"] == "feature_view"}

    def get_definition(self, name: str) -> dict[str, Any]:
        return dict(self.transport.call("GET", f"{PREFIX}/{quote(name, safe='')}")[
            "definition"])

    def materialize(self, start: Any = None, end: Any = None,
                    views: Sequence[str] | None = None) -> list[Materialized]:
        body = {"start": _iso(start), "end": _iso(end),
                "views": list(views) if views else None}
        done = self.transport.call("POST", f"{PREFIX}/materialize", json=body)
        return [Materialized(m["view"], int(m["rows"]), m) for m in done["materializations"]]

    def online(self, features: Sequence[str] | str, entity_rows: Any, *,
               output: str = "pandas") -> Any:
        """As ``FeatureStore.online``: one row out per entity row."""
        check_output(output, ROWS)
        columns = {k: [_plain(v) for v in values]
                   for k, values in entity_columns(entity_rows).items()}
        wanted = [features] if isinstance(features, str) else list(features)
        found = self.transport.call("POST", f"{PREFIX}/online",
                                    json={"features": wanted, "entity_rows": columns})
        result: dict[str, list[Any]] = found["columns"]
        if output == "dict":
            return result
        import pandas as pd

        rows = len(next(iter(result.values()))) if result else 0
        return pd.DataFrame(result, index=range(rows))

    def training_set(self, entity_df: Any, features: Sequence[str] | str, *,
                     output: str = "pandas", save_as: str | None = None, message: str = "",
                     run_id: str | None = None) -> Any:
        """As ``FeatureStore.training_set``, built on the server: the entity rows go as
        Parquet (times and their zones exactly), the training set comes back as Parquet."""
        from gannet.features.offline import from_arrow, parquet_table, table_parquet, to_arrow

        check_output(output)
        wanted = [features] if isinstance(features, str) else list(features)
        params: dict[str, Any] = {"features": wanted}
        if save_as is not None:
            params.update(save_as=save_as, message=message)
            if run_id is not None:
                params["run_id"] = run_id
        response = self.transport.send(
            "POST", f"{PREFIX}/training-set", params=params,
            content=table_parquet(to_arrow(entity_df)),
            headers={"content-type": PARQUET, "idempotency-key": uuid.uuid4().hex})
        result = from_arrow(parquet_table(response.content, "the server's answer"), output)
        saved = response.headers.get("gannet-dataset-version")
        if saved and output == "pandas":
            result.attrs["gannet.dataset_version"] = saved
        return result

    def view_table(self, name: str) -> Any:
        """A feature view's rows (Arrow), read on the server from its source."""
        from gannet.features.offline import parquet_table

        response = self.transport.send("GET", f"{PREFIX}/{quote(name, safe='')}/rows")
        return parquet_table(response.content, "the server's answer")

    def close(self) -> None:
        return None


def _as_data(definitions: Any) -> str | list[dict[str, Any]]:
    """YAML text, or a list of definitions as mappings (files are read here)."""
    if isinstance(definitions, Path) or (
            isinstance(definitions, str) and "\n" not in definitions
            and definitions.endswith((".yaml", ".yml"))):
        path = Path(definitions).expanduser()
        if not path.is_file():
            raise NotFound(f"no definitions file at {definitions}",
                           "give the path of a YAML file")
        return path.read_text()
    if isinstance(definitions, str):
        return definitions
    items = definitions if isinstance(definitions, list | tuple) else [definitions]
    return [item.to_dict() if hasattr(item, "to_dict") else dict(item) for item in items]


def _iso(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise InvalidArgument(f"{value!r} is not a time", "give a datetime or ISO text")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can carry."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
