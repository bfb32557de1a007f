"""``RemoteInferenceLog``: ``InferenceLog``'s queries and feedback, over ``/api/v1``.

What ``gannet logs query|show|feedback`` calls, against a team server's log: results come
back as Arrow (typed columns) and become the same pandas DataFrames a local query gives.
Labels are checked here first, as the local log checks them, so a wrong one fails before
anything is sent. Compaction and writing belong to the machines that hold the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gannet.core.errors import NotSupported
from gannet.core.settings import Settings
from gannet.remote.transport import Transport
from gannet.serving.log.feedback import check_feedback

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RemoteInferenceLog"]

BASE = "/api/v1/logs"


class RemoteInferenceLog:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    def deployments(self) -> list[str]:
        """Deployments with logged predictions."""
        return list(self.transport.call("GET", BASE)["deployments"])

    def query(self, deployment: str, sql: str, *, limit: int | None = None) -> pd.DataFrame:
        """The result of ``sql`` over ``deployment``'s views, as a pandas DataFrame."""
        response = self.transport.send(
            "POST", f"{BASE}/{_seg(deployment)}/query",
            json={"sql": sql, "limit": limit})  # a read: no Idempotency-Key
        return _frame(response.content)

    def show(self, deployment: str, last: int = 20) -> pd.DataFrame:
        """The ``last`` logged rows, newest first."""
        response = self.transport.send("GET", f"{BASE}/{_seg(deployment)}/latest",
                                       params={"last": last})
        return _frame(response.content)

    def feedback(
        self,
        deployment: str,
        request_id: str,
        label: Any,
        *,
        row: int | None = None,
        timestamp: int | dt.datetime | None = None,
    ) -> None:
        """Record the true ``label`` of a request (every row of it, or only ``row``)."""
        self.feedback_many(deployment, [{"request_id": request_id, "label": label, "row": row,
                                         "timestamp": timestamp}])

    def feedback_many(self, deployment: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Many labels at once; returns how many were written."""
        checked = [check_feedback(r) for r in records]
        body = {"records": [{"request_id": c["request_id"], "label": c["label"],
                             "row": c["row"], "timestamp": c["timestamp_ms"]}
                            for c in checked]}
        return int(self.transport.call("POST", f"{BASE}/{_seg(deployment)}/feedback",
                                       json=body)["written"])

    def compact(self, *args: Any, **options: Any) -> Any:
        raise NotSupported(
            f"the inference log of the server at {self.settings.uri} is compacted by its "
            "servers (every 10 minutes) or on a machine that holds the log",
            "run gannet logs compact there (unset GANNET_URI, with inference_log_url set)",
        )


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _frame(data: bytes) -> pd.DataFrame:
    import pyarrow as pa

    with pa.ipc.open_stream(data) as reader:
        return reader.read_all().to_pandas()
