"""Who may apply, change, approve or read continuous-training policies on a team server.

A policy acts for a registered model, so the model's project decides: reading a policy
and its decisions needs the ``reader`` role there; applying, pausing, resuming and
approving need ``editor`` (what promoting the model by hand needs); deleting needs
``owner``. Someone who may not see the model is told the policy does not exist, in the
words used for one that does not. Embedded use, administrators and the controller itself
(which acts as nobody) skip the lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gannet.core.actor import require, restricted
from gannet.core.errors import GannetError, NotFound

if TYPE_CHECKING:
    from gannet.registry.service import RegistryService

__all__ = ["may_model", "visible"]


def may_model(registry: RegistryService, model: str, role: str, what: str,
              missing: NotFound) -> None:
    """Allow the caller to ``what`` only with ``role`` in ``model``'s project."""
    if restricted() is None:
        return
    try:
        project = registry.get_registered_model(model).project
    except NotFound:
        raise missing from None
    require(project, role, what, missing)


def visible(registry: RegistryService, model: str) -> bool:
    """Whether the caller may read ``model`` (so its policies and their decisions)."""
    if restricted() is None:
        return True
    try:
        may_model(registry, model, "reader", "read", NotFound(model, ""))
    except GannetError:
        return False
    return True
