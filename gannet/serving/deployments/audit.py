"""What a deployment's revision holds and what the audit log keeps of a change.

``CONTENT`` names the parts of a state a change may alter (a change that alters none of
them writes nothing); ``summary`` is a state as the audit log keeps it and
``change_detail`` what changed between two revisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gannet.serving.deployments.types import DeploymentState

CONTENT = ("routes", "shadows", "sticky_key", "log_masked", "log_hashed", "features",
           "features_on_unavailable", "feature_defaults")


def content(state: DeploymentState) -> tuple:
    return tuple(getattr(state, k) for k in CONTENT)


def summary(state: DeploymentState) -> dict[str, Any]:
    """The state as the audit log keeps it."""
    return {
        "routes": {r.ref: r.weight for r in state.routes},
        "shadows": list(state.shadows),
        "sticky_key": state.sticky_key,
        "log_masked": list(state.log_masked),
        "log_hashed": list(state.log_hashed),
        "features": list(state.features),
        "features_on_unavailable": state.features_on_unavailable,
        "feature_defaults": dict(state.feature_defaults),
    }


def change_detail(
    current: DeploymentState,
    new: DeploymentState,
    reason: str,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What changed from and to, between which revisions, and why."""
    before, after = summary(current), summary(new)
    changed = [k for k in after if after[k] != before[k]]
    return {
        "from": {k: before[k] for k in changed},
        "to": {k: after[k] for k in changed},
        "from_revision": current.revision,
        "revision": new.revision,
        "reason": reason,
        **(extra or {}),
    }
