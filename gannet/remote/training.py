"""``RemoteTraining``: ``TrainingService``'s calls against a team server.

The server runs the controller (the retrains, the canary stages), so a policy sent from
here names its pipeline by a path the server can read; ``folder`` is where the policy's
relative paths start, on the server. ``tick`` is refused: only the server's controller
advances the loops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from gannet.core import wire
from gannet.core.errors import NotSupported
from gannet.core.settings import Settings
from gannet.remote.transport import Transport
from gannet.training.types import Decision, PolicyStatus, TickReport

__all__ = ["RemoteTraining"]

BASE = "/api/v1/policies"


class RemoteTraining:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    def apply_policy(self, text: str, *, folder: str | Path | None = None,
                     where: str = "the policy") -> PolicyStatus:
        body = {"text": text, "folder": str(folder) if folder is not None else None}
        return _status(self.transport.call("POST", BASE, json=body))

    def dry_run_policy(self, text: str, *, folder: str | Path | None = None) -> dict[str, Any]:
        body = {"text": text, "folder": str(folder) if folder is not None else None}
        return dict(self.transport.call("POST", BASE + "/dry-run", json=body,
                                        retry_safe=True)["dry_run"])

    def get_policy_status(self, name: str) -> PolicyStatus:
        return _status(self.transport.call("GET", _one(name)))

    def list_policies(self) -> list[PolicyStatus]:
        found = self.transport.call("GET", BASE)
        return wire.load(list[PolicyStatus], found["policies"])

    def delete_policy(self, name: str) -> None:
        self.transport.call("DELETE", _one(name))

    def pause_policy(self, name: str) -> PolicyStatus:
        return _status(self.transport.call("POST", _one(name) + "/pause", retry_safe=True))

    def resume_policy(self, name: str) -> PolicyStatus:
        return _status(self.transport.call("POST", _one(name) + "/resume", retry_safe=True))

    def approve_policy(self, name: str, comment: str = "") -> Decision:
        found = self.transport.call("POST", _one(name) + "/approve", json={"comment": comment})
        return wire.load(Decision, found["decision"])

    def list_decisions(self, policy: str | None = None, limit: int = 100) -> list[Decision]:
        params: dict[str, Any] = {"limit": limit}
        if policy is not None:
            params["policy"] = policy
        found = self.transport.call("GET", "/api/v1/decisions", params=params)
        return wire.load(list[Decision], found["decisions"])

    def tick(self, holder: str | None = None) -> TickReport:
        raise NotSupported("a team server's policies are advanced by its own controller",
                           "run `gannet controller` where the server's stores are (or let "
                           "the server run it: the controller_interval setting)")


def _one(name: str) -> str:
    return f"{BASE}/{quote(name, safe='')}"


def _status(found: dict[str, Any]) -> PolicyStatus:
    return wire.load(PolicyStatus, found["policy"])
