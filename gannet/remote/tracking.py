"""``RemoteTracking``: ``TrackingService``'s calls over ``/api/v1``."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from gannet.core import wire
from gannet.core.settings import Settings
from gannet.remote.transport import Transport
from gannet.tracking.types import Experiment, ViewType

__all__ = ["RemoteTracking"]


class RemoteTracking:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    # -- experiments -----------------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None, *,
                          experiment_id: str | None = None) -> str:
        body = {"name": name, "tags": dict(tags or {}), "experiment_id": experiment_id}
        return str(self.transport.call("POST", "/api/v1/experiments", json=body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        found = self.transport.call("GET", f"/api/v1/experiments/{_seg(experiment_id)}")
        return wire.load(Experiment, found["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        found = self.transport.call("GET", "/api/v1/experiments/by-name",
                                    params={"name": name})
        return wire.load(Experiment | None, found["experiment"])

    def search_experiments(self, view: ViewType = ViewType.ACTIVE) -> list[Experiment]:
        found = self.transport.call("GET", "/api/v1/experiments", params={"view": str(view)})
        return wire.load(list[Experiment], found["experiments"])

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.transport.call("PATCH", f"/api/v1/experiments/{_seg(experiment_id)}",
                            json={"name": new_name})

    def delete_experiment(self, experiment_id: str) -> None:
        self.transport.call("DELETE", f"/api/v1/experiments/{_seg(experiment_id)}")

    def restore_experiment(self, experiment_id: str) -> None:
        self.transport.call("POST", f"/api/v1/experiments/{_seg(experiment_id)}/restore")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.transport.call("PUT", f"/api/v1/experiments/{_seg(experiment_id)}/tags/{quote(key)}",
                            json={"value": value})


def _seg(value: str) -> str:
    """``value`` as one path segment (a name with ``/`` or ``?`` stays one segment)."""
    return quote(str(value), safe="")
