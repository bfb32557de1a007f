"""Test-wide fixtures come from Gannet's own testing plugin (also usable by plugin authors)."""

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

pytest_plugins = ["gannet.testing.fixtures", "gannet.testing.s3"]

# mlflow (a test dependency) would otherwise report its use over the network
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture
def sdk(settings) -> Iterator[ModuleType]:
    """The fluent ``gannet`` module, pointed at a fresh store on each metadata backend."""
    import gannet
    from gannet.client import fluent

    gannet.configure(settings)
    yield gannet
    while fluent.active_run() is not None:
        fluent.end_run()
    fluent.get_client().close()
    fluent._client = None
    fluent._experiment_id = None
