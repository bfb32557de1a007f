"""``LineageService``: record an edge once, and follow edges either way."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.lineage import repository
from gannet.lineage.types import Edge
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class LineageService:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def record(
        self, from_kind: str, from_id: str, to_kind: str, to_id: str, context: str = ""
    ) -> Edge:
        """Add the edge (again: nothing changes, the first one stays)."""
        for what, value in (("from_id", from_id), ("to_id", to_id)):
            if not value or len(value) > 300:
                raise InvalidArgument(f"lineage {what} {value!r} must be 1 to 300 characters",
                                      "name the node by its reference, e.g. churn@3")
        if len(context) > 100:
            raise InvalidArgument(f"lineage context {context[:40]!r}... is over 100 characters",
                                  "use a short word such as training or evaluation")
        edge = Edge(from_kind, from_id, to_kind, to_id, context, now_ms())

        def work(conn: Connection) -> None:
            if not repository.has_edge(conn, edge):
                repository.insert_edge(conn, edge)

        self.metadata.transaction(work)
        return edge

    def inputs_of(self, kind: str, ids: Collection[str]) -> list[Edge]:
        """What the nodes ``ids`` of ``kind`` used (edges into them)."""
        if not ids:
            return []
        with self.metadata.read() as conn:
            return repository.edges_into(conn, kind, ids)

    def users_of(self, kind: str, ids: Collection[str]) -> list[Edge]:
        """Who used the nodes ``ids`` of ``kind`` (edges out of them)."""
        if not ids:
            return []
        with self.metadata.read() as conn:
            return repository.edges_out_of(conn, kind, ids)
