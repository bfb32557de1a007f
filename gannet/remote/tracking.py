"""``RemoteTracking``: ``TrackingService``'s calls over ``/api/v1``.

The same names, arguments, return types and errors as the service, so the SDK (its log
buffer included) and the CLI cannot tell the two apart. What the SDK calls on the
service without a store - ``point``, ``clean_params``, ``clean_tags``, ``new_params`` -
are the service's own functions, so a value is checked by the same rules before it is
buffered; the server checks everything again.

Writes are safe to retry (the transport resends a request whose answer was lost): a run's
id is chosen here, and every batch of metrics, params and tags carries an id of its own
(``gannet.remote.batches``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from gannet.core import wire
from gannet.core.errors import AlreadyExists
from gannet.core.ids import new_id
from gannet.core.settings import Settings
from gannet.remote.artifacts import RemoteArtifacts
from gannet.remote.batches import BatchSender
from gannet.remote.blobs import BlobClient
from gannet.remote.transport import Transport
from gannet.tracking import validation
from gannet.tracking.environment import Environment
from gannet.tracking.service import TrackingService
from gannet.tracking.types import (
    Experiment,
    Metric,
    Page,
    Pending,
    Run,
    RunStatus,
    ViewType,
    WriteReport,
)

__all__ = ["RemoteTracking"]


class RemoteTracking(RemoteArtifacts):
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings
        self.blob_client = BlobClient(transport, threads=settings.transfer_threads,
                                      progress=settings.progress)
        self.batches = BatchSender(self._send_pending)

    def close(self) -> None:
        """Close the connections to the object store (signed URLs); the transport is the
        services'."""
        self.blob_client.close()

    # the service's own checks, which need no store
    point = staticmethod(TrackingService.point)
    clean_params = staticmethod(TrackingService.clean_params)
    clean_tags = staticmethod(TrackingService.clean_tags)
    new_params = TrackingService.new_params

    # -- experiments -----------------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None, *,
                          experiment_id: str | None = None, project: str | None = None) -> str:
        """A new experiment in ``project`` (else this client's ``project`` setting, else the
        server's), under an id chosen here (as ``create_run`` does): a create sent again
        after its answer was lost finds its experiment rather than the name taken."""
        chosen = experiment_id or new_id()
        body = {"name": validation.check_experiment_name(name), "tags": self.clean_tags(tags),
                "experiment_id": chosen, "project": project or self.settings.project or None}
        try:
            made = self.transport.call("POST", "/api/v1/experiments", json=body)
        except AlreadyExists:
            if experiment_id is not None:
                raise
            found = self.get_experiment_by_name(name)
            if found is None or found.experiment_id != chosen:
                raise
            return chosen
        return str(made["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        found = self.transport.call("GET", f"/api/v1/experiments/{_seg(experiment_id)}")
        return wire.load(Experiment, found["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        validation.check_text(str(name), f"experiment name {name!r}")
        found = self.transport.call("GET", "/api/v1/experiments/by-name",
                                    params={"name": name})
        return wire.load(Experiment | None, found["experiment"])

    def search_experiments(
        self,
        view: ViewType = ViewType.ACTIVE,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        params: dict[str, Any] = {"view": str(view)}
        if filter_string is not None:
            params["filter_string"] = filter_string
        if order_by:
            params["order_by"] = list(order_by)
        found = self.transport.call("GET", "/api/v1/experiments", params=params)
        return wire.load(list[Experiment], found["experiments"])

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.transport.call("PATCH", f"/api/v1/experiments/{_seg(experiment_id)}",
                            json={"name": validation.check_experiment_name(new_name)})

    def delete_experiment(self, experiment_id: str) -> None:
        self.transport.call("DELETE", f"/api/v1/experiments/{_seg(experiment_id)}")

    def restore_experiment(self, experiment_id: str) -> None:
        self.transport.call("POST", f"/api/v1/experiments/{_seg(experiment_id)}/restore")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.transport.call("PUT", f"/api/v1/experiments/{_seg(experiment_id)}/tags/{quote(key)}",
                            json={"value": value})

    # -- runs ------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
        source_name: str = "",
        source_type: str = "LOCAL",
        git_commit: str | None = None,
        environment: Environment | None = None,
        run_id: str | None = None,
    ) -> Run:
        """A new RUNNING run, under an id chosen here: when the answer to a create is lost
        and the transport sends it again, the server finds the run made, and so do we."""
        chosen = run_id or new_id()
        body = {
            "experiment_id": str(experiment_id), "run_id": chosen,
            "run_name": validation.check_run_name(run_name) if run_name else run_name,
            "tags": self.clean_tags(tags), "parent_run_id": parent_run_id,
            "start_time": validation.check_timestamp(start_time, "run start")
            if start_time else start_time, "user_id": user_id, "source_name": source_name,
            "source_type": source_type, "git_commit": git_commit, "environment": environment,
        }
        try:
            made = self.transport.call("POST", "/api/v1/runs", json=body)
        except AlreadyExists:
            if run_id is not None:
                raise
            found = self.get_run(chosen)  # our own first try landed; its answer did not
            if found.info.experiment_id != str(experiment_id):
                raise
            return found
        return wire.load(Run, made["run"])

    def get_run(self, run_id: str) -> Run:
        found = self.transport.call("GET", f"/api/v1/runs/{_seg(run_id)}")
        return wire.load(Run, found["run"])

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> None:
        if end_time is not None:
            end_time = validation.check_timestamp(end_time, "run end")
        self.transport.call("PATCH", f"/api/v1/runs/{_seg(run_id)}", json={
            "status": None if status is None else str(status), "end_time": end_time,
            "run_name": validation.check_run_name(run_name) if run_name else run_name})

    def delete_run(self, run_id: str) -> None:
        self.transport.call("DELETE", f"/api/v1/runs/{_seg(run_id)}")

    def restore_run(self, run_id: str) -> None:
        self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/restore")

    # -- params, tags, metrics -----------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        skip_logged_points: bool = False,
        batch_id: str | None = None,
    ) -> None:
        """Params, tags and metrics of one run, all stored or (on any error) none; sent
        once whatever the retries (the batch has an id)."""
        points = [self.point(run_id, m.key, m.value, m.timestamp, m.step) for m in metrics]
        body = {
            "batch_id": batch_id or uuid.uuid4().hex,
            "skip_logged_points": skip_logged_points,
            "metrics": [{"key": k, "value": v, "timestamp": t, "step": s}
                        for _, k, v, t, s in points],
            "params": self.clean_params(params),
            "tags": self.clean_tags(tags),
        }
        self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/log-batch", json=body,
                            retry_safe=True)

    def write_pending(self, pending: Pending, *, batch_id: str | None = None,
                      validate: bool = False) -> WriteReport:
        """The log buffer's writes: one request per batch, each landing exactly once
        (``BatchSender``); an unreachable server raises ``StoreError``, so the buffer keeps
        the entries, as it does for a store that cannot write. The server always checks."""
        if batch_id is not None:
            return self._send_pending(batch_id, pending)
        return self.batches.write(pending)

    def _send_pending(self, batch_id: str, pending: Pending) -> WriteReport:
        body = {"batch_id": batch_id, "points": pending.points, "params": pending.params,
                "tags": pending.tags, "environments": pending.environments}
        found = self.transport.call("POST", "/api/v1/runs/write-pending", json=body,
                                    retry_safe=True)
        return wire.load(WriteReport, found["report"])

    def get_params(self, run_id: str) -> dict[str, str]:
        found = self.transport.call("GET", f"/api/v1/runs/{_seg(run_id)}/params")
        return dict(found["params"])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.transport.call("DELETE", f"/api/v1/runs/{_seg(run_id)}/tags/{quote(key)}")

    def get_metric_history(
        self, run_id: str, key: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Metric]:
        params: dict[str, Any] = {"key": key, "offset": offset}
        if limit is not None:
            params["limit"] = limit
        found = self.transport.call("GET", f"/api/v1/runs/{_seg(run_id)}/metric-history",
                                    params=params)
        return wire.load(list[Metric], found["metrics"])

    def check_run_active(self, run_id: str) -> None:
        """Raises as the service does for an unknown or deleted run."""
        self.get_params(run_id)

    # -- search ------------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        view: ViewType = ViewType.ACTIVE,
    ) -> Page[Run]:
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids], "filter_string": filter_string,
            "order_by": order_by if order_by is None or isinstance(order_by, str)
            else list(order_by),
            "max_results": max_results, "page_token": page_token, "view": str(view)}
        found = self.transport.call("POST", "/api/v1/runs/search", json=body, retry_safe=True)
        return Page(wire.load(list[Run], found["runs"]), found["next_page_token"])


def _seg(value: str) -> str:
    """``value`` as one path segment (a name with ``/`` or ``?`` stays one segment)."""
    return quote(str(value), safe="")
