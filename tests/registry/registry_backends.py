"""What a registry test needs of the SDK's backend, and a skip when it lacks it."""

import pytest


def needs_runs(sdk) -> None:
    """Skip while the SDK's backend cannot make runs (the remote tracking's runs land
    separately from the remote registry; once they do, this never skips)."""
    if not hasattr(sdk.get_client().services.tracking, "create_run"):
        pytest.skip("runs over the team server are not in this build yet")
